import { ALPHABET_CLASSES, CHARACTER_CLASSES, isHeadName, type HeadName, type LossWeights } from '../shared/model/heads.js';
import { DdpError } from '../shared/common/errors.js';

/**
 * How the per-head cross-entropies are weighted into the one loss whose gradient the workers compute. The
 * coordinator owns this: it derives each step's weights from what it has seen up to the previous step and sends
 * them with the assignment, so every worker applies the same weights whatever the number of workers.
 *
 * - `fixed`: the weights as given (the course: 0.33 alphabet + 0.67 character, or 1:1).
 * - `normalized`: the given weights scaled to sum to 1.
 * - `scale-normalized`: each head's weight divided by a running mean of its loss, so heads on different scales
 *   (ln 30 vs ln 964 at the start) pull equally; the robust form of the course's `loss / max(loss)`.
 * - `uncertainty`: learned homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018): loss =
 *   sum_h w_h (exp(-s_h) L_h + s_h), with the log-variances s_h learned by SGD beside the model.
 */
export const LOSS_WEIGHTING_STRATEGIES = ['fixed', 'normalized', 'scale-normalized', 'uncertainty'] as const;
export type LossWeightingStrategy = (typeof LOSS_WEIGHTING_STRATEGIES)[number];

export function isLossWeightingStrategy(s: string): s is LossWeightingStrategy {
  return (LOSS_WEIGHTING_STRATEGIES as readonly string[]).includes(s);
}

/** What a checkpoint keeps of a weighting: the strategy's evolving numbers, per head in `heads` order. */
export interface LossWeightingState {
  readonly strategy: LossWeightingStrategy;
  readonly base: readonly [HeadName, number][];
  readonly values: readonly number[];
}

/** Running-mean rate of `scale-normalized`: about the last 20 steps. */
const RUNNING_MEAN_RATE = 0.05;

const CHANCE_LOSS: Readonly<Record<HeadName, number>> = {
  alphabet: Math.log(ALPHABET_CLASSES),
  character: Math.log(CHARACTER_CLASSES),
};

export class LossWeighting {
  private readonly values: number[];

  private constructor(
    readonly strategy: LossWeightingStrategy,
    private readonly base: ReadonlyMap<HeadName, number>,
    values: readonly number[],
  ) {
    this.values = [...values];
  }

  /** @throws DdpError ERR_BAD_CONFIG when a weight is negative or non-finite or all are zero. */
  static create(strategy: LossWeightingStrategy, base: LossWeights): LossWeighting {
    validateWeights(base);
    const heads = [...base.keys()];
    const initial = strategy === 'scale-normalized' ? heads.map((h) => CHANCE_LOSS[h])
      : strategy === 'uncertainty' ? heads.map(() => 0)
      : [];
    return new LossWeighting(strategy, base, initial);
  }

  static restore(state: LossWeightingState): LossWeighting {
    return new LossWeighting(state.strategy, new Map(state.base), state.values);
  }

  state(): LossWeightingState {
    return { strategy: this.strategy, base: [...this.base], values: [...this.values] };
  }

  /** The weights to apply to the per-head cross-entropies at the next step. */
  current(): LossWeights {
    const heads = [...this.base];
    switch (this.strategy) {
      case 'fixed':
        return new Map(heads);
      case 'normalized': {
        const sum = heads.reduce((a, [, w]) => a + w, 0);
        return new Map(heads.map(([h, w]) => [h, w / sum]));
      }
      case 'scale-normalized':
        return new Map(heads.map(([h, w], i) => [h, w / Math.max(this.values[i]!, 1e-6)]));
      case 'uncertainty':
        return new Map(heads.map(([h, w], i) => [h, w * Math.exp(-this.values[i]!)]));
    }
  }

  /**
   * Takes the global batch's mean loss per head after a step. `learningRate` drives the uncertainty strategy's
   * log-variances: d/ds (w e^{-s} L + w s) = w (1 - e^{-s} L).
   */
  observe(meanLoss: ReadonlyMap<HeadName, number>, learningRate: number): void {
    [...this.base].forEach(([h, w], i) => {
      const loss = meanLoss.get(h);
      if (loss === undefined || !Number.isFinite(loss)) return;
      if (this.strategy === 'scale-normalized') {
        this.values[i] = (1 - RUNNING_MEAN_RATE) * this.values[i]! + RUNNING_MEAN_RATE * loss;
      } else if (this.strategy === 'uncertainty') {
        const s = this.values[i]!;
        this.values[i] = s - learningRate * w * (1 - Math.exp(-s) * loss);
      }
    });
  }
}

export function validateWeights(weights: LossWeights): void {
  for (const [head, w] of weights) {
    if (!Number.isFinite(w) || w < 0) {
      throw new DdpError('ERR_BAD_CONFIG', `loss weight of '${head}' is ${w}: weights must be finite and >= 0`);
    }
  }
  if (weights.size === 0 || [...weights.values()].every((w) => w === 0)) {
    throw new DdpError('ERR_BAD_CONFIG', 'loss weights are all zero: at least one head needs a positive weight');
  }
}

/**
 * Parses `alphabet=0.33,character=0.67` for a model with `heads`. A head the model has but the text omits gets 0;
 * a head the model does not have is an error.
 * @throws DdpError ERR_BAD_CONFIG naming the offending part.
 */
export function parseLossWeights(text: string, heads: readonly HeadName[]): LossWeights {
  const weights = new Map<HeadName, number>(heads.map((h) => [h, 0]));
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const [name, value, extra] = part.split('=').map((s) => s.trim());
    if (name === undefined || value === undefined || extra !== undefined || value === '') {
      throw new DdpError('ERR_BAD_CONFIG', `--loss-weights: '${part}' is not head=weight`);
    }
    if (!isHeadName(name) || !heads.includes(name)) {
      throw new DdpError('ERR_BAD_CONFIG', `--loss-weights: unknown head '${name}' (this model has: ${heads.join(', ')})`);
    }
    const weight = Number(value);
    if (!Number.isFinite(weight)) throw new DdpError('ERR_BAD_CONFIG', `--loss-weights: '${value}' is not a number`);
    weights.set(name, weight);
  }
  validateWeights(weights);
  return weights;
}
