import { isLossWeightingStrategy, LossWeighting, parseLossWeights } from '../../coordinator/loss-weighting.js';
import type { LrSchedule } from '../../coordinator/lr-schedule.js';
import { DdpError } from '../../shared/common/errors.js';
import { HEAD_NAMES } from '../../shared/model/heads.js';
import { modelSpec, type ModelKind } from '../../shared/model/model-spec.js';

/** `constant`, `step:<epochs>:<gamma>`, `cosine` or `cosine:<min factor>`. @throws DdpError ERR_BAD_CONFIG. */
export function parseLrSchedule(text: string): LrSchedule {
  const [kind, a, b, ...rest] = text.split(':');
  const bad = (): never => {
    throw new DdpError('ERR_BAD_CONFIG', `--lr-schedule: '${text}' is not constant, step:<epochs>:<gamma> or cosine[:<min factor>]`);
  };
  if (rest.length > 0) bad();
  if (kind === 'constant' && a === undefined) return { kind: 'constant' };
  if (kind === 'step') {
    const everyEpochs = Number(a);
    const gamma = Number(b);
    if (!Number.isInteger(everyEpochs) || everyEpochs < 1 || !(gamma > 0) || !Number.isFinite(gamma)) bad();
    return { kind: 'step', everyEpochs, gamma };
  }
  if (kind === 'cosine' && b === undefined) {
    const minFactor = a === undefined ? 0 : Number(a);
    if (!(minFactor >= 0 && minFactor <= 1)) bad();
    return { kind: 'cosine', minFactor };
  }
  return bad();
}

/**
 * The loss weighting for a model from the two flags. For a model without every head (two-input has only the character
 * head), a weight given for a head it lacks is ignored rather than refused, so one config serves every model.
 */
export function parseLossWeighting(model: ModelKind, strategy: string, weights: string): LossWeighting {
  if (!isLossWeightingStrategy(strategy)) throw new DdpError('ERR_BAD_CONFIG', `--loss-weighting: unknown strategy '${strategy}'`);
  const heads = modelSpec(model).heads;
  const relevant = weights.split(',').filter((part) => heads.some((h) => part.trim().startsWith(`${h}=`)) || !part.includes('='));
  const text = heads.length < HEAD_NAMES.length ? relevant.join(',') || `${heads[0]}=1` : weights;
  return LossWeighting.create(strategy, parseLossWeights(text, heads));
}
