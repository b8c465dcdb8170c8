import type { HeadName } from '../shared/model/heads.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import type { Agreement } from '../shared/protocol/messages.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import type { PhaseTimes } from '../shared/common/phase-times.js';
import type { HeadSummary } from './head-metrics.js';
import type { LossWeightingState } from './loss-weighting.js';
import type { SgdState } from './step-exchange/sum-and-sgd.js';

/** What one epoch achieved; the run's metric history is a list of these. */
export interface EpochSummary {
  readonly epoch: number;
  /** Mean training loss and accuracy per head over the epoch's steps (weights changing as it went). */
  readonly train: readonly HeadSummary[];
  readonly test: readonly HeadSummary[];
  /** two-output only: does the character head's implied alphabet agree with the alphabet head? */
  readonly agreement?: Agreement;
  readonly samplesPerSecond: number;
  readonly wallMs: number;
  readonly workers: number;
  readonly learningRate: number;
  readonly lossWeights: readonly [HeadName, number][];
  /** Mean milliseconds per step by phase (shared/common/phase-times.ts STEP_PHASES); they add up to the mean step. */
  readonly phases?: PhaseTimes;
  /** The step exchange design the epoch ran with. */
  readonly exchange?: string;
}

/**
 * Everything needed to continue a run exactly where it stopped: the shuffle is a pure function of (seed, epoch),
 * so (epoch, stepInEpoch) is the whole shuffle state.
 */
export interface TrainingState {
  readonly modelKind: ModelKind;
  /** The dataset the sample indices refer to: resuming on another one would train on other images. */
  readonly datasetFingerprint: string;
  readonly seed: number;
  readonly globalBatch: number;
  /** The next step to run: epoch, and step within it. */
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly globalStep: number;
  readonly params: readonly NamedTensor[];
  readonly sgdState: SgdState;
  readonly lossWeighting: LossWeightingState;
  readonly history: readonly EpochSummary[];
  /** Per-head sums of the current epoch's training steps so far, so a resumed epoch reports the same means. */
  readonly epochTrainStats: readonly { head: HeadName; lossSum: number; correct: number; count: number }[];
}
