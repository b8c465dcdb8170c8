import { mulberry32 } from '../../shared/common/seeded-random.js';
import { IMAGE_SIZE, type Batch } from '../../shared/model/batch.js';
import { ALPHABET_CLASSES, CHARACTER_CLASSES } from '../../shared/model/heads.js';

/** Uniform random images and labels, as the PyTorch anchor's synthetic_batch. */
export function syntheticBatch(size: number, seed: number): Batch {
  const next = mulberry32(seed);
  return {
    size,
    images: Float32Array.from({ length: size * IMAGE_SIZE * IMAGE_SIZE }, next),
    alphabet: Int32Array.from({ length: size }, () => Math.floor(next() * ALPHABET_CLASSES)),
    character: Int32Array.from({ length: size }, () => Math.floor(next() * CHARACTER_CLASSES)),
  };
}
