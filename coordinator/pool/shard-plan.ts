import type { WorkerId } from '../../shared/protocol/ids.js';
import { predictTaskMs, type TaskTimeFit } from './task-time-model.js';

/** A worker as the planner sees it: its fitted task time. */
export interface WorkerCapacity extends TaskTimeFit {
  readonly id: WorkerId;
  /** When it can start (ms from now), if it is still busy; 0 when omitted. */
  readonly readyInMs?: number;
}

export interface Shard {
  readonly worker: WorkerId;
  /** Where the shard starts within the batch that was planned; fixes the order in which results are added. */
  readonly offset: number;
  readonly indices: Uint32Array;
}

/**
 * Splits a global batch across workers so the step ends as early as the fitted task times allow (the makespan,
 * max over workers of readyInMs + fixedMs + perSampleMs x share, is minimal). Contiguous slices in worker order, adding up to the
 * batch exactly. A worker whose fixed cost alone exceeds what the others need gets no shard. Pure.
 * @throws RangeError when there are no workers for a non-empty batch or a cost is negative or not finite.
 */
export function planShards(batch: Uint32Array, workers: readonly WorkerCapacity[]): Shard[] {
  if (batch.length === 0) return [];
  if (workers.length === 0) throw new RangeError('cannot plan shards: no workers');
  for (const w of workers) {
    if (!(w.perSampleMs > 0) || !Number.isFinite(w.perSampleMs) || !(w.fixedMs >= 0) || !Number.isFinite(w.fixedMs)) {
      throw new RangeError(`worker ${w.id} has task time ${w.fixedMs} ms + ${w.perSampleMs} ms/sample`);
    }
    if (!((w.readyInMs ?? 0) >= 0) || !Number.isFinite(w.readyInMs ?? 0)) throw new RangeError(`worker ${w.id} is ready in ${w.readyInMs} ms`);
  }
  const sizes = makespanShares(batch.length, workers.map((w) => ({ fixedMs: w.fixedMs + (w.readyInMs ?? 0), perSampleMs: w.perSampleMs })));
  const shards: Shard[] = [];
  let start = 0;
  workers.forEach((w, i) => {
    const size = sizes[i]!;
    if (size > 0) shards.push({ worker: w.id, offset: start, indices: batch.subarray(start, start + size) });
    start += size;
  });
  return shards;
}

/**
 * Shares of `total` samples minimising the latest finish. Each sample goes to the worker that would finish it
 * earliest (a worker's first sample costs its fixed cost too); since each worker's finish time only grows with its
 * share, this takes the `total` cheapest finish times there are, which is optimal. Ties go to the earlier worker.
 */
export function makespanShares(total: number, fits: readonly TaskTimeFit[]): number[] {
  const sizes = fits.map(() => 0);
  for (let n = 0; n < total; n++) {
    let best = 0;
    let bestFinish = Infinity;
    fits.forEach((f, i) => {
      const finish = predictTaskMs(f, sizes[i]! + 1);
      if (finish < bestFinish) {
        best = i;
        bestFinish = finish;
      }
    });
    sizes[best]! += 1;
  }
  return sizes;
}

/** The predicted step time of a split: the latest worker's finish (idle workers finish at 0). */
export function makespanMs(fits: readonly TaskTimeFit[], sizes: readonly number[]): number {
  return Math.max(0, ...fits.map((f, i) => (sizes[i]! > 0 ? predictTaskMs(f, sizes[i]!) : 0)));
}
