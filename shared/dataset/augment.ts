import { IMAGE_SIZE, type Batch } from '../model/batch.js';
import { mulberry32, streamSeed } from '../common/seeded-random.js';

/** How far a training image may be moved: each draw is uniform in [-max, +max]. */
export interface AugmentMagnitudes {
  /** Pixels, per axis. */
  readonly maxShift: number;
  /** Degrees. */
  readonly maxRotation: number;
  /** Relative: 0.1 means a scale in [0.9, 1.1]. */
  readonly maxScale: number;
}

/** Small enough that every glyph stays recognisable and inside the 64x64 frame. */
export const DEFAULT_AUGMENT: AugmentMagnitudes = { maxShift: 4, maxRotation: 10, maxScale: 0.1 };

/** One sample's affine warp: rotate by `rotation` radians and scale about the centre, then shift. */
export interface AffineDraw {
  readonly dx: number;
  readonly dy: number;
  readonly rotation: number;
  readonly scale: number;
}

/**
 * The warp of sample `index` in `epoch`: a pure function of (seed, epoch, index), so a sample is warped the same
 * whichever worker draws it and however the batch is split.
 */
export function drawAffine(seed: number, epoch: number, index: number, m: AugmentMagnitudes = DEFAULT_AUGMENT): AffineDraw {
  const random = mulberry32(streamSeed(seed, `augment:${epoch}:${index}`));
  const uniform = (max: number): number => (2 * random() - 1) * max;
  return {
    dx: uniform(m.maxShift),
    dy: uniform(m.maxShift),
    rotation: (uniform(m.maxRotation) * Math.PI) / 180,
    scale: 1 + uniform(m.maxScale),
  };
}

/**
 * Warps one size x size image into `out` by inverse mapping with bilinear sampling; outside the source is paper
 * (0). Every output pixel is a convex combination of input pixels and 0, so values stay in the input's [0, 1];
 * the identity draw copies the image exactly.
 */
export function warpImage(src: Float32Array, out: Float32Array, draw: AffineDraw, size = IMAGE_SIZE): void {
  const c = (size - 1) / 2;
  // Inverse of p' = c + s R (p - c) + t: p = c + R^-1 (p' - c - t) / s.
  const cos = Math.cos(draw.rotation) / draw.scale;
  const sin = Math.sin(draw.rotation) / draw.scale;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= size || y >= size ? 0 : src[y * size + x]!);
  for (let y = 0; y < size; y++) {
    const ry = y - c - draw.dy;
    for (let x = 0; x < size; x++) {
      const rx = x - c - draw.dx;
      const sx = c + cos * rx + sin * ry;
      const sy = c - sin * rx + cos * ry;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
      const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
      out[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
}

/**
 * Training-time augmentation: small random shifts, rotations and scaling of each glyph, deterministic per
 * (seed, epoch, sample index) so a sample looks the same whichever worker draws it. `indices[i]` is the dataset
 * row of the batch's sample i. Returns a new batch; the input is not modified.
 * @throws RangeError when `indices` and the batch differ in length.
 */
export function augmentBatch(batch: Batch, indices: ArrayLike<number>, seed: number, epoch: number,
  magnitudes: AugmentMagnitudes = DEFAULT_AUGMENT): Batch {
  if (indices.length !== batch.size) {
    throw new RangeError(`augmentBatch: ${indices.length} indices for a batch of ${batch.size}`);
  }
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const images = new Float32Array(batch.images.length);
  for (let i = 0; i < batch.size; i++) {
    warpImage(batch.images.subarray(i * pixels, (i + 1) * pixels), images.subarray(i * pixels, (i + 1) * pixels),
      drawAffine(seed, epoch, indices[i]!, magnitudes));
  }
  return { ...batch, images };
}
