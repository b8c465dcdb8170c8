import type { Batch } from '../model/batch.js';

/**
 * Training-time augmentation, deterministic per (seed, epoch, sample index) so a sample looks the same whichever
 * worker draws it. Not implemented yet: asking for it is an error rather than a silent no-op.
 */
export function augmentBatch(batch: Batch, indices: Uint32Array, seed: number, epoch: number): Batch {
  void indices;
  void seed;
  void epoch;
  void batch;
  throw new Error('augmentation is not implemented yet');
}
