import type { WorkerId } from '../../shared/protocol/ids.js';

export interface WorkerCapacity {
  readonly id: WorkerId;
  /** Relative throughput (samples/s); any positive scale. */
  readonly speed: number;
}

export interface Shard {
  readonly worker: WorkerId;
  /** Where the shard starts within the batch that was planned; fixes the order in which results are added. */
  readonly offset: number;
  readonly indices: Uint32Array;
}

/**
 * Splits a global batch across workers in proportion to their speed, so fast and slow workers finish together.
 * Contiguous slices in batch order; sizes by largest remainder, so they add up to the batch exactly. Workers whose
 * share rounds to zero get no shard. Pure: the plan depends only on its inputs.
 * @throws RangeError when there are no workers for a non-empty batch or a speed is not positive and finite.
 */
export function planShards(batch: Uint32Array, workers: readonly WorkerCapacity[]): Shard[] {
  if (batch.length === 0) return [];
  if (workers.length === 0) throw new RangeError('cannot plan shards: no workers');
  for (const w of workers) {
    if (!(w.speed > 0) || !Number.isFinite(w.speed)) throw new RangeError(`worker ${w.id} has speed ${w.speed}`);
  }
  const sizes = shareSizes(batch.length, workers.map((w) => w.speed));
  const shards: Shard[] = [];
  let start = 0;
  workers.forEach((w, i) => {
    const size = sizes[i]!;
    if (size > 0) shards.push({ worker: w.id, offset: start, indices: batch.subarray(start, start + size) });
    start += size;
  });
  return shards;
}

/** Largest-remainder apportionment of `total` items by `weights`; ties go to the earlier entry. */
export function shareSizes(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const sizes = exact.map(Math.floor);
  let left = total - sizes.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    sizes[i]! += 1;
    left -= 1;
  }
  return sizes;
}
