import type { HeadName } from './heads.js';

/** Side of the square greyscale input images. */
export const IMAGE_SIZE = 64;

/** A batch of samples as plain arrays, ready to hand to a `ModelRunner`. */
export interface Batch {
  readonly size: number;
  /** size * 64 * 64 values, row-major per image, ink = 1 and background = 0. */
  readonly images: Float32Array;
  readonly alphabet: Int32Array;
  readonly character: Int32Array;
}

/** The labels head `head` is trained and scored against. */
export function headLabels(batch: Batch, head: HeadName): Int32Array {
  return head === 'alphabet' ? batch.alphabet : batch.character;
}
