import { mulberry32, streamSeed } from '../../shared/common/seeded-random.js';

/**
 * The order in which an epoch visits the training set: a Fisher-Yates shuffle seeded by (seed, epoch) alone, so a
 * resumed run, or a run with another number of workers, draws exactly the same global batches.
 */
export function epochPermutation(seed: number, epoch: number, size: number): Uint32Array {
  const random = mulberry32(streamSeed(seed, `epoch:${epoch}`));
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Steps in an epoch; the last global batch keeps the remainder (no sample is dropped). */
export function stepsPerEpoch(size: number, globalBatch: number): number {
  return Math.ceil(size / globalBatch);
}

/** The sample indices of step `step` (0-based) of an epoch. */
export function globalBatchAt(order: Uint32Array, globalBatch: number, step: number): Uint32Array {
  return order.subarray(step * globalBatch, Math.min(order.length, (step + 1) * globalBatch));
}
