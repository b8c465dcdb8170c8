import type { ShardReport } from './run-events.js';

export interface Straggler {
  readonly worker: string;
  readonly computeMs: number;
  /** How much longer it computed than the median of the others: the time the step waited on it. */
  readonly aheadOfMedianMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The worker whose compute time held the step back: the longest compute among the step's shards. Compute time is
 * what the worker measured before the barrier, so a worker that merely answered last (network, queueing) is not
 * blamed. Needs two workers or more; a worker with several shards counts by its total.
 */
export function findStraggler(shards: readonly ShardReport[]): Straggler | undefined {
  const byWorker = new Map<string, number>();
  for (const s of shards) byWorker.set(s.worker, (byWorker.get(s.worker) ?? 0) + s.computeMs);
  if (byWorker.size < 2) return undefined;
  const ranked = [...byWorker].sort((a, b) => b[1] - a[1]);
  const [worker, computeMs] = ranked[0]!;
  return { worker, computeMs, aheadOfMedianMs: computeMs - median(ranked.slice(1).map(([, ms]) => ms)) };
}
