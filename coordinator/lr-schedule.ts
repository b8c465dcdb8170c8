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
