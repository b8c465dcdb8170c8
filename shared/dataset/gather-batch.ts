import { IMAGE_SIZE, type Batch } from '../model/batch.js';
import type { Split } from './omniglot.js';

const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/**
 * Copies the rows `indices` of `split` (in that order, repeats allowed) into a fresh Batch that shares no memory
 * with the split, so a batch may be transferred or mutated freely. Throws RangeError naming the position and value
 * of the first index that is not an integer in 0..size-1.
 */
export function gatherBatch(split: Split, indices: ArrayLike<number>): Batch {
  const size = indices.length;
  const images = new Float32Array(size * PIXELS);
  const alphabet = new Int32Array(size);
  const character = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const row = indices[i] ?? Number.NaN;
    if (!Number.isInteger(row) || row < 0 || row >= split.size) {
      throw new RangeError(`gatherBatch: index ${row} at position ${i} is outside the split's rows 0..${split.size - 1}`);
    }
    images.set(split.images.subarray(row * PIXELS, (row + 1) * PIXELS), i * PIXELS);
    alphabet[i] = split.alphabet[row] ?? 0;
    character[i] = split.character[row] ?? 0;
  }
  return { size, images, alphabet, character };
}
