import test from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeInk, runPool } from '../shared/dataset/decode-image.js';
import { isDatasetError } from '../shared/dataset/errors.js';
import { ZipReader } from '../shared/dataset/zip-reader.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env['OMNIGLOT_DIR'] || path.resolve(repoRoot, '../shared/omniglot');
/** Drawer 01 of Latin/character01, whatever its image id. */
const PREFIX = 'images_background/Latin/character01/';

async function knownPng(): Promise<Buffer> {
  const zip = await ZipReader.open(path.join(dataDir, 'images_background.zip'));
  const entry = zip.entries.find((e) => e.name.startsWith(PREFIX) && e.name.endsWith('_01.png'));
  if (!entry) throw new Error(`no drawer 01 under ${PREFIX}`);
  return zip.read(entry);
}

test('decodes a real image to 64x64 ink bytes at the given offset', async (t) => {
  const out = new Uint8Array(3 * 4096);
  await decodeInk(await knownPng(), 64, out, 4096, 'known');
  t.true(out.subarray(0, 4096).every((v) => v === 0), 'bytes before the offset untouched');
  t.true(out.subarray(8192).every((v) => v === 0), 'bytes after the image untouched');
  const image = out.subarray(4096, 8192);
  t.true(image.some((v) => v === 255), 'has solid ink');
  t.is(image[0], 0, 'corner is paper');
});

test('bytes that are not a PNG, or a cut-off PNG, are ERR_IMAGE_DECODE naming the entry', async (t) => {
  const out = new Uint8Array(4096);
  const notPng = await t.throwsAsync(decodeInk(Buffer.from('GIF89a....'), 64, out, 0, 'z.zip: a/b.png'));
  t.true(isDatasetError(notPng, 'ERR_IMAGE_DECODE'));
  t.regex(notPng?.message ?? '', /z\.zip: a\/b\.png: not a PNG/);
  const png = await knownPng();
  const cut = await t.throwsAsync(decodeInk(png.subarray(0, Math.floor(png.length / 2)), 64, out, 0, 'z.zip: c/d.png'));
  t.true(isDatasetError(cut, 'ERR_IMAGE_DECODE'));
  t.true(cut?.message.includes('z.zip: c/d.png'));
});

test('runPool runs every task with bounded concurrency and reports the first failure', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const seen: number[] = [];
  await runPool(20, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    seen.push(i);
    inFlight--;
  }, 3);
  t.is(peak, 3);
  t.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));

  const started: number[] = [];
  await t.throwsAsync(
    runPool(50, async (i) => {
      started.push(i);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (i === 2) throw new Error('task 2 failed');
    }, 2),
    { message: 'task 2 failed' },
  );
  t.true(started.length < 50, 'stops starting tasks after a failure');
});
