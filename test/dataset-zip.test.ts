import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { isDatasetError } from '../shared/dataset/errors.js';
import { ZipReader } from '../shared/dataset/zip-reader.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env['OMNIGLOT_DIR'] || path.resolve(repoRoot, '../shared/omniglot');
const background = path.join(dataDir, 'images_background.zip');
const evaluation = path.join(dataDir, 'images_evaluation.zip');
const FIRST_PNG = 'images_background/Alphabet_of_the_Magi/character01/0709_01.png';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function tempCopy(name: string, bytes: Uint8Array): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'omniglot-zip-')), name);
  writeFileSync(file, bytes);
  return file;
}

test('lists and reads the background zip', async (t) => {
  const zip = await ZipReader.open(background);
  const pngs = zip.entries.filter((e) => e.name.endsWith('.png'));
  t.is(pngs.length, 19_280);
  t.true(zip.entries.some((e) => e.isDirectory && e.name === 'images_background/'));
  const entry = zip.get(FIRST_PNG);
  if (!entry) return t.fail(`${FIRST_PNG} not listed`);
  const png = zip.read(entry);
  t.is(png.length, entry.size);
  t.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
});

test('reads every entry of the evaluation zip with CRCs intact', async (t) => {
  const zip = await ZipReader.open(evaluation);
  let images = 0;
  for (const entry of zip.entries) {
    const bytes = zip.read(entry);
    if (entry.name.endsWith('.png')) images++;
    t.is(bytes.length, entry.size);
  }
  t.is(images, 13_180);
});

test('reads stored (method 0) entries', (t) => {
  // The real zips use deflate for files; build a one-entry stored zip to cover method 0.
  const data = Buffer.from('stored bytes');
  const name = Buffer.from('a/b.txt');
  const crc = zlib.crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const dirOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(dirOffset, 16);
  const zip = ZipReader.fromBuffer('stored.zip', Buffer.concat([local, name, data, central, name, end]));
  const entry = zip.get('a/b.txt');
  if (!entry) return t.fail('entry not listed');
  t.is(entry.method, 0);
  t.is(zip.read(entry).toString(), 'stored bytes');
});

test('a truncated copy is refused, naming the zip and the entry it ends in', async (t) => {
  const bytes = readFileSync(background);
  const victim = (await ZipReader.open(background)).entries.filter((e) => e.name.endsWith('.png'))[5000];
  if (!victim) return t.fail('too few entries');
  const file = tempCopy('truncated.zip', bytes.subarray(0, victim.localHeaderOffset + 100));
  const error = await t.throwsAsync(ZipReader.open(file));
  t.true(isDatasetError(error, 'ERR_DATASET_CORRUPT'));
  t.true(error?.message.includes(file));
  t.true(error?.message.includes(`truncated: the file ends inside entry ${victim.name}`), error?.message);
});

test('a flipped byte in an entry is refused, naming the zip and the entry', async (t) => {
  const original = await ZipReader.open(background);
  const entry = original.get(FIRST_PNG);
  if (!entry) return t.fail(`${FIRST_PNG} not listed`);
  const bytes = Buffer.from(readFileSync(background));
  const dataStart = entry.localHeaderOffset + 30 + bytes.readUInt16LE(entry.localHeaderOffset + 26) + bytes.readUInt16LE(entry.localHeaderOffset + 28);
  const at = dataStart + Math.floor(entry.compressedSize / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x10;
  const file = tempCopy('flipped.zip', bytes);
  const zip = await ZipReader.open(file); // the directory is intact; the damage shows on read
  const damaged = zip.get(FIRST_PNG);
  if (!damaged) return t.fail('entry not listed');
  const error = t.throws(() => zip.read(damaged));
  t.true(isDatasetError(error, 'ERR_DATASET_CORRUPT'));
  t.true(error?.message.includes(file));
  t.true(error?.message.includes(FIRST_PNG));
  // Its neighbours still read.
  const next = zip.entries[zip.entries.indexOf(damaged) + 1];
  if (next) t.is(zip.read(next).length, next.size);
});

test('a file that is not a zip is refused', (t) => {
  const file = tempCopy('not.zip', Buffer.from('hello, not a zip'));
  const error = t.throws(() => ZipReader.fromBuffer(file, readFileSync(file)));
  t.true(isDatasetError(error, 'ERR_DATASET_CORRUPT'));
  t.regex(error?.message ?? '', /no end-of-central-directory record/);
});
