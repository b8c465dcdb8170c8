import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadOmniglot, loadOmniglotEvaluation, gatherBatch, isDatasetError, type OmniglotData } from '../shared/dataset/omniglot.js';
import { ZipReader } from '../shared/dataset/zip-reader.js';
import { createLogger, type Logger } from '../shared/common/logger.js';
import { IMAGE_SIZE } from '../shared/model/batch.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env['OMNIGLOT_DIR'] || path.resolve(repoRoot, '../shared/omniglot');
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Alphabet_of_the_Magi (20 characters) and Anglo-Saxon_Futhorc (29): quick to decode, and they cross a boundary. */
const SUBSET = 2;
const SUBSET_CHARACTERS = 49;

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'omniglot-load-'));
}

/** A logger whose lines land in `lines`, parsed, for asserting on what the loader said. */
function capturingLogger(): { log: Logger; messages: () => string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { log, messages: () => lines.map((l) => String((JSON.parse(l) as { msg?: unknown }).msg)) };
}

// One subset load shared by the read-only tests of this file.
const sharedCache = tempDir();
let subset: Promise<OmniglotData> | undefined;
const loadSubset = (): Promise<OmniglotData> => (subset ??= loadOmniglot({ dir: dataDir, cacheDir: sharedCache, alphabets: SUBSET }));

test('labels follow the documented order', async (t) => {
  const data = await loadSubset();
  t.deepEqual(data.alphabets, ['Alphabet_of_the_Magi', 'Anglo-Saxon_Futhorc']);
  t.is(data.characters.length, SUBSET_CHARACTERS);
  t.is(data.characters[0], 'Alphabet_of_the_Magi/character01');
  t.is(data.characters[19], 'Alphabet_of_the_Magi/character20');
  t.is(data.characters[20], 'Anglo-Saxon_Futhorc/character01');
  t.is(data.characters[48], 'Anglo-Saxon_Futhorc/character29');
  t.deepEqual([...data.characterAlphabet], [...Array(20).fill(0), ...Array(29).fill(1)]);
  for (const split of [data.train, data.test]) {
    for (let i = 0; i < split.size; i++) {
      if (split.alphabet[i] !== data.characterAlphabet[split.character[i] ?? -1]) return t.fail(`row ${i}: alphabet and character disagree`);
    }
  }
});

test('drawers 1-16 are train and 17-20 test, 16 and 4 per character, rows in (character, drawer) order', async (t) => {
  const data = await loadSubset();
  t.is(data.train.size, SUBSET_CHARACTERS * 16);
  t.is(data.test.size, SUBSET_CHARACTERS * 4);
  t.is(data.train.images.length, data.train.size * PIXELS);
  const check = (split: OmniglotData['train'], first: number, perCharacter: number): void => {
    for (let i = 0; i < split.size; i++) {
      t.is(split.character[i], Math.floor(i / perCharacter));
      t.is(split.drawer[i], first + (i % perCharacter));
    }
  };
  check(data.train, 1, 16);
  check(data.test, 17, 4);
});

test('images are ink-is-one in [0, 1] and keep the ink of the full-size image', async (t) => {
  const data = await loadSubset();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data.train.images) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  t.is(min, 0);
  t.is(max, 1);
  const mean = sum / data.train.images.length;
  t.true(mean > 0.02 && mean < 0.3, `mean ink ${mean}`);

  // Row 0 is Alphabet_of_the_Magi/character01 drawer 01: compare with the 105x105 original decoded independently.
  const zip = await ZipReader.open(path.join(dataDir, 'images_background.zip'));
  const entry = zip.get('images_background/Alphabet_of_the_Magi/character01/0709_01.png');
  if (!entry) return t.fail('known image missing');
  const full = await sharp(zip.read(entry)).greyscale().raw().toBuffer();
  const fullInk = full.reduce((acc, p) => acc + (255 - p) / 255, 0) / full.length;
  const row = data.train.images.subarray(0, PIXELS);
  const rowInk = row.reduce((acc, v) => acc + v, 0) / PIXELS;
  t.true(Math.abs(rowInk - fullInk) < 0.002, `downsampled ink ${rowInk} vs original ${fullInk}`);
  t.true(rowInk > 0.02, 'not blank');
  for (const corner of [0, IMAGE_SIZE - 1, PIXELS - IMAGE_SIZE, PIXELS - 1]) t.is(row[corner], 0, 'paper is 0, not inverted');
});

test('a second load hits the cache with the same fingerprint and data', async (t) => {
  const cacheDir = tempDir();
  const first = capturingLogger();
  const cold = await loadOmniglot({ dir: dataDir, cacheDir, alphabets: SUBSET, log: first.log });
  t.true(first.messages().includes('dataset cache miss'));
  t.true(first.messages().includes('dataset cache written'));
  const second = capturingLogger();
  const warm = await loadOmniglot({ dir: dataDir, cacheDir, alphabets: SUBSET, log: second.log });
  t.true(second.messages().includes('dataset cache hit'));
  t.false(second.messages().includes('decoding dataset'));
  t.is(warm.fingerprint, cold.fingerprint);
  t.regex(warm.fingerprint, /^[0-9a-f]{64}$/);
  t.deepEqual(warm.train.images, cold.train.images);
  t.deepEqual(warm.test.character, cold.test.character);
  t.deepEqual(warm.test.drawer, cold.test.drawer);
  t.deepEqual(warm.characters, cold.characters);
  // The same images under another subset are another dataset.
  t.not((await loadOmniglot({ dir: dataDir, cacheDir, alphabets: 1 })).fingerprint, cold.fingerprint);
});

test('a corrupted cache file is detected and rebuilt', async (t) => {
  const cacheDir = tempDir();
  const original = await loadOmniglot({ dir: dataDir, cacheDir, alphabets: 1 });
  const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.bin'));
  if (!file) return t.fail('no cache file written');
  const bytes = readFileSync(path.join(cacheDir, file));
  const at = bytes.length - 5000; // inside the test images
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  writeFileSync(path.join(cacheDir, file), bytes);

  const { log, messages } = capturingLogger();
  const reloaded = await loadOmniglot({ dir: dataDir, cacheDir, alphabets: 1, log });
  t.true(messages().includes('dataset cache invalid, rebuilding'));
  t.is(reloaded.fingerprint, original.fingerprint);
  t.deepEqual(reloaded.test.images, original.test.images);

  // Truncation is caught too, and the rebuilt file is good again.
  writeFileSync(path.join(cacheDir, file), readFileSync(path.join(cacheDir, file)).subarray(0, 1000));
  const again = capturingLogger();
  t.is((await loadOmniglot({ dir: dataDir, cacheDir, alphabets: 1, log: again.log })).fingerprint, original.fingerprint);
  t.true(again.messages().includes('dataset cache invalid, rebuilding'));
  const last = capturingLogger();
  await loadOmniglot({ dir: dataDir, cacheDir, alphabets: 1, log: last.log });
  t.true(last.messages().includes('dataset cache hit'));
});

test('a missing data folder or zip is ERR_DATASET_MISSING naming the path', async (t) => {
  const missing = path.join(tempDir(), 'no-such-folder');
  const error = await t.throwsAsync(loadOmniglot({ dir: missing, cacheDir: tempDir() }));
  t.true(isDatasetError(error, 'ERR_DATASET_MISSING'));
  t.true(error?.message.includes(missing));
  t.regex(error?.message ?? '', /OMNIGLOT_DIR/);

  const empty = tempDir();
  const noZip = await t.throwsAsync(loadOmniglot({ dir: empty, cacheDir: tempDir() }));
  t.true(isDatasetError(noZip, 'ERR_DATASET_MISSING'));
  t.true(noZip?.message.includes(path.join(empty)));
  t.true(noZip?.message.includes('images_background.zip'));
});

test('a zip without the Omniglot layout is ERR_DATASET_CORRUPT naming what it found', async (t) => {
  const dir = tempDir();
  // The evaluation zip under the background name: intact, but no images_background/ entries.
  writeFileSync(path.join(dir, 'images_background.zip'), readFileSync(path.join(dataDir, 'images_evaluation.zip')));
  const error = await t.throwsAsync(loadOmniglot({ dir, cacheDir: tempDir(), alphabets: 1 }));
  t.true(isDatasetError(error, 'ERR_DATASET_CORRUPT'));
  t.regex(error?.message ?? '', /Unexpected layout in .*: no images_background\/.* found: images_evaluation/);
});

test('a bad alphabets option is a RangeError', async (t) => {
  await t.throwsAsync(loadOmniglot({ dir: dataDir, cacheDir: tempDir(), alphabets: 0 }), { instanceOf: RangeError });
  await t.throwsAsync(loadOmniglot({ dir: dataDir, cacheDir: tempDir(), alphabets: 31 }), { instanceOf: RangeError });
});

test('gatherBatch copies the requested rows', async (t) => {
  const data = await loadSubset();
  const indices = [5, 0, 783, 5];
  const batch = gatherBatch(data.train, indices);
  t.is(batch.size, 4);
  t.is(batch.images.length, 4 * PIXELS);
  for (const [i, row] of indices.entries()) {
    t.deepEqual(batch.images.subarray(i * PIXELS, (i + 1) * PIXELS), data.train.images.subarray(row * PIXELS, (row + 1) * PIXELS));
    t.is(batch.alphabet[i], data.train.alphabet[row]);
    t.is(batch.character[i], data.train.character[row]);
  }
  t.is(batch.character[2], 48);
  batch.images[0] = 42; // a copy: the split is untouched
  t.not(data.train.images[5 * PIXELS], 42);
  t.is(gatherBatch(data.test, []).size, 0);
});

test('gatherBatch names a bad index in a RangeError', async (t) => {
  const data = await loadSubset();
  t.throws(() => gatherBatch(data.test, [0, data.test.size]), { instanceOf: RangeError, message: new RegExp(`index ${data.test.size} at position 1`) });
  t.throws(() => gatherBatch(data.test, [-1]), { instanceOf: RangeError, message: /index -1 at position 0/ });
  t.throws(() => gatherBatch(data.test, [1.5]), { instanceOf: RangeError, message: /index 1.5/ });
});

test('the evaluation set loads with the same rules', async (t) => {
  const data = await loadOmniglotEvaluation({ dir: dataDir, cacheDir: tempDir(), alphabets: 1 });
  t.deepEqual(data.alphabets, ['Angelic']);
  t.is(data.characters[0], 'Angelic/character01');
  t.is(data.train.size, data.characters.length * 16);
  t.is(data.test.size, data.characters.length * 4);
});
