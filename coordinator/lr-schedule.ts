/**
 * Learning rate as a pure function of where training is, so a resumed run and a run with any number of workers
 * use the same rate at the same step.
 * - constant: the base rate (the course).
 * - step: multiplied by `gamma` every `everyEpochs` epochs.
 * - cosine: from the base rate down to `minFactor` x base over all epochs, step by step.
 */
export type LrSchedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly everyEpochs: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly minFactor: number };

export interface TrainingPosition {
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly epochs: number;
}

export function learningRateAt(base: number, schedule: LrSchedule, at: TrainingPosition): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(at.epoch / schedule.everyEpochs);
    case 'cosine': {
      const progress = (at.epoch * at.stepsPerEpoch + at.stepInEpoch) / Math.max(1, at.epochs * at.stepsPerEpoch);
      const min = base * schedule.minFactor;
      return min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
  }
}

/**
 * How the rate follows the global batch (Goyal et al. 2017, "Accurate, Large Minibatch SGD"):
 * - none: the base rate whatever the batch.
 * - linear: the peak rate is base x globalBatch / baseBatch, reached by a linear ramp from the base rate over the
 *   first `warmupEpochs` epochs (step by step), after which the schedule above applies to the peak rate.
 */
export type LrScaling =
  | { readonly kind: 'none' }
  | { readonly kind: 'linear'; readonly baseBatch: number; readonly warmupEpochs: number };

export const LR_SCALINGS = ['none', 'linear'] as const;

/** The rate at `at` for a run of global batch `globalBatch`: the schedule of the scaled peak, ramped in during warmup. */
export function scaledLearningRateAt(base: number, schedule: LrSchedule, scaling: LrScaling, globalBatch: number,
  at: TrainingPosition): number {
  if (scaling.kind === 'none') return learningRateAt(base, schedule, at);
  const scheduled = learningRateAt(base * (globalBatch / scaling.baseBatch), schedule, at);
  const epochsDone = at.epoch + at.stepInEpoch / Math.max(1, at.stepsPerEpoch);
  if (epochsDone >= scaling.warmupEpochs) return scheduled;
  return base + (scheduled - base) * (epochsDone / scaling.warmupEpochs);
}
