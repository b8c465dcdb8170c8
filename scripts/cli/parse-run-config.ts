import { isLossWeightingStrategy, LossWeighting, parseLossWeights } from '../../coordinator/loss-weighting.js';
import type { LrScaling, LrSchedule } from '../../coordinator/lr-schedule.js';
import { DdpError } from '../../shared/common/errors.js';
import { HEAD_NAMES, isHeadName, type HeadName } from '../../shared/model/heads.js';
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

/**
 * The batch scaling of the rate from --lr-scaling, --base-batch and --warmup-epochs. A warmup without linear scaling
 * (it would ramp from the base rate to itself), or longer than the run, is refused. @throws DdpError ERR_BAD_CONFIG.
 */
export function parseLrScaling(v: { readonly 'lr-scaling': string; readonly 'base-batch': number; readonly 'warmup-epochs': number;
  readonly epochs: number }): LrScaling {
  const warmup = v['warmup-epochs'];
  if (v['lr-scaling'] === 'linear') {
    if (warmup > v.epochs) throw new DdpError('ERR_BAD_CONFIG', `--warmup-epochs: ${warmup} is more than the ${v.epochs} --epochs of the run`);
    return { kind: 'linear', baseBatch: v['base-batch'], warmupEpochs: warmup };
  }
  if (v['lr-scaling'] !== 'none') throw new DdpError('ERR_BAD_CONFIG', `--lr-scaling: '${v['lr-scaling']}' is not none or linear`);
  if (warmup > 0) throw new DdpError('ERR_BAD_CONFIG', `--warmup-epochs: ${warmup} needs --lr-scaling linear (there is nothing to ramp up to)`);
  return { kind: 'none' };
}

/** The global batch: --batch-per-worker x the workers when given, else --batch-size. */
export function globalBatchFrom(v: { readonly 'batch-size': number; readonly 'batch-per-worker': number | undefined }, workers: number): number {
  return v['batch-per-worker'] === undefined ? v['batch-size'] : v['batch-per-worker'] * workers;
}

/**
 * The time-to-accuracy targets, `head=accuracy` pairs with accuracies in (0, 1]. As with --loss-weights, a head the
 * model lacks is skipped, so one config serves every model. @throws DdpError ERR_BAD_CONFIG.
 */
export function parseTargets(model: ModelKind, text: string): ReadonlyMap<HeadName, number> {
  const heads = modelSpec(model).heads;
  const targets = new Map<HeadName, number>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const [name, value, extra] = part.split('=').map((s) => s.trim());
    if (name === undefined || value === undefined || value === '' || extra !== undefined) {
      throw new DdpError('ERR_BAD_CONFIG', `--target: '${part}' is not head=accuracy`);
    }
    if (!isHeadName(name)) throw new DdpError('ERR_BAD_CONFIG', `--target: unknown head '${name}' (heads: ${HEAD_NAMES.join(', ')})`);
    const accuracy = Number(value);
    if (!(accuracy > 0 && accuracy <= 1)) throw new DdpError('ERR_BAD_CONFIG', `--target: ${name}=${value} is not an accuracy in (0, 1]`);
    if (targets.has(name)) throw new DdpError('ERR_BAD_CONFIG', `--target: ${name} is given twice`);
    if (heads.includes(name)) targets.set(name, accuracy);
  }
  return targets;
}
