import type { EpochSummary } from '../../coordinator/training-state.js';
import type { HeadName } from '../../shared/model/heads.js';

/** When a head's test accuracy first reached its target, or null fields while it has not. */
export interface TimeToAccuracy {
  readonly target: number;
  /** 1-based epoch whose evaluation first reached the target. */
  readonly epoch: number | null;
  /** Wall seconds from the start of training to the end of that epoch's evaluation (resumed epochs included). */
  readonly seconds: number | null;
  readonly accuracy: number | null;
}

/**
 * Time-to-accuracy per head, as MLPerf Training and DAWNBench report it: the accumulated wall time of the epochs up to
 * and including the first whose test evaluation reached the target. Accuracy is only known at an epoch's evaluation,
 * so the time includes that evaluation.
 */
export function timeToAccuracy(history: readonly Pick<EpochSummary, 'test' | 'wallMs'>[],
  targets: ReadonlyMap<HeadName, number>): Record<string, TimeToAccuracy> {
  const out: Record<string, TimeToAccuracy> = {};
  for (const [head, target] of targets) {
    let elapsedMs = 0;
    let reached: TimeToAccuracy = { target, epoch: null, seconds: null, accuracy: null };
    for (const [i, epoch] of history.entries()) {
      elapsedMs += epoch.wallMs;
      const accuracy = epoch.test.find((h) => h.head === head)?.accuracy;
      if (accuracy !== undefined && accuracy >= target) {
        reached = { target, epoch: i + 1, seconds: elapsedMs / 1000, accuracy };
        break;
      }
    }
    out[head] = reached;
  }
  return out;
}
