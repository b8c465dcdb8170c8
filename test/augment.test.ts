import test from 'ava';
import { augmentBatch, drawAffine, warpImage } from '../shared/dataset/augment.js';
import { gatherBatch } from '../shared/dataset/omniglot.js';
import { omniglotSubset } from './helpers/fixtures.js';

const NONE = { maxShift: 0, maxRotation: 0, maxScale: 0 };

test('augmentation is a pure function of (seed, epoch, sample index), whatever the batch split', async (t) => {
  const data = await omniglotSubset(2);
  const rows = [3, 10, 57, 200];
  const whole = augmentBatch(gatherBatch(data.train, rows), rows, 42, 1);
  const again = augmentBatch(gatherBatch(data.train, rows), rows, 42, 1);
  t.deepEqual(whole.images, again.images);
  // Sample 57 alone, as a worker holding one shard would see it.
  const alone = augmentBatch(gatherBatch(data.train, [57]), [57], 42, 1);
  t.deepEqual(alone.images, whole.images.subarray(2 * 4096, 3 * 4096));
  const otherEpoch = augmentBatch(gatherBatch(data.train, rows), rows, 42, 2);
  const otherSeed = augmentBatch(gatherBatch(data.train, rows), rows, 43, 1);
  t.notDeepEqual(otherEpoch.images, whole.images);
  t.notDeepEqual(otherSeed.images, whole.images);
  t.deepEqual(whole.character, Int32Array.from(rows, (r) => data.train.character[r]!));
});

test('zero magnitudes are the identity; otherwise the glyph moves but stays in [0, 1] with its ink', async (t) => {
  const data = await omniglotSubset(2);
  const rows = Array.from({ length: 32 }, (_, i) => i * 11);
  const batch = gatherBatch(data.train, rows);
  t.deepEqual(augmentBatch(batch, rows, 9, 0, NONE).images, batch.images);
  const warped = augmentBatch(batch, rows, 9, 0);
  t.notDeepEqual(warped.images, batch.images);
  t.true(warped.images.every((v) => v >= 0 && v <= 1));
  for (let i = 0; i < batch.size; i++) {
    const ink = (images: Float32Array): number => images.subarray(i * 4096, (i + 1) * 4096).reduce((a, b) => a + b, 0);
    const ratio = ink(warped.images) / ink(batch.images);
    // Scale within +-10% changes the ink area by at most ~21%, plus interpolation blur and clipping at the border.
    t.true(ratio > 0.6 && ratio < 1.4, `sample ${i}: ink ratio ${ratio}`);
  }
  t.throws(() => augmentBatch(batch, rows.slice(1), 9, 0), { instanceOf: RangeError });
});

test('a pure shift moves the image by whole pixels', (t) => {
  const src = new Float32Array(64 * 64);
  src[10 * 64 + 20] = 1;
  const out = new Float32Array(64 * 64);
  warpImage(src, out, { dx: 3, dy: -2, rotation: 0, scale: 1 });
  t.is(out[8 * 64 + 23], 1);
  t.is(out.reduce((a, b) => a + b, 0), 1);
  const d = drawAffine(1, 2, 3);
  t.true(Math.abs(d.dx) <= 4 && Math.abs(d.dy) <= 4 && Math.abs(d.rotation) <= Math.PI / 18 && Math.abs(d.scale - 1) <= 0.1);
});
