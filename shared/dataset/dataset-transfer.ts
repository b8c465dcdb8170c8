import path from 'node:path';
import { IMAGE_SIZE } from '../model/batch.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { encodeCacheFile, parseCacheFile, readCache, type CacheRead } from './dataset-cache.js';
import { fingerprint, type DecodedSet, type RawSplit } from './decoded-set.js';
import { datasetError } from './errors.js';
import { toData, type OmniglotData, type Split } from './omniglot.js';

/**
 * The decoded set as one file to send to a worker that has no copy of the dataset: the dataset cache format
 * (dataset-cache.ts), so the receiver verifies it with the same code that verifies its own cache, and stores it as a
 * cache file named by the content fingerprint (it never saw the source zip, whose hash names the usual cache files).
 */

/**
 * The cache file bytes of a loaded set. The ink bytes are recovered from the float images (each is q/255, so
 * rounding x*255 gives q back exactly), and the result must hash to the set's fingerprint, so a set that was not
 * loaded from Omniglot data, or was altered since, is never sent. @throws DdpError ERR_DATASET_CORRUPT.
 */
export function encodeDatasetFile(data: OmniglotData): Buffer {
  const source = data.source;
  if (!source) throw datasetError('ERR_DATASET_CORRUPT', 'the dataset was not loaded from an Omniglot zip: nothing to send');
  const decoded: DecodedSet = {
    set: source.set,
    imageSize: IMAGE_SIZE,
    alphabets: data.alphabets,
    characters: data.characters,
    characterAlphabet: data.characterAlphabet,
    train: toRaw(data.train),
    test: toRaw(data.test),
  };
  const print = fingerprint(decoded);
  if (print !== data.fingerprint) {
    throw datasetError('ERR_DATASET_CORRUPT', `the dataset in memory hashes to ${print.slice(0, 12)}, not its fingerprint ${data.fingerprint.slice(0, 12)}`);
  }
  return Buffer.concat(encodeCacheFile(source, decoded, print));
}

function toRaw(split: Split): RawSplit {
  const ink = new Uint8Array(split.images.length);
  for (let i = 0; i < ink.length; i++) ink[i] = Math.round((split.images[i] ?? 0) * 255);
  return { size: split.size, ink, alphabet: split.alphabet, character: split.character, drawer: split.drawer };
}

/** Where a received set is cached: named by its fingerprint, which the receiver learns before the bytes. */
export function receivedCacheFile(cacheDir: string, print: string): string {
  if (!/^[0-9a-f]{64}$/.test(print)) throw datasetError('ERR_DATASET_CORRUPT', `'${print.slice(0, 80)}' is not a dataset fingerprint`);
  return path.join(cacheDir, `received-${print}.bin`);
}

/** A received file's bytes as a dataset, verified against the fingerprint it was announced with. */
export function decodeDatasetFile(bytes: Buffer, print: string): { readonly read: CacheRead; readonly data?: OmniglotData } {
  const read = parseCacheFile(bytes, { fingerprint: print });
  return read.kind === 'hit' ? { read, data: toData(read.data, read.fingerprint) } : { read };
}

/** The cached copy of a received set, if there is a valid one. */
export async function readReceived(cacheDir: string, print: string): Promise<{ readonly file: string; readonly read: CacheRead; readonly data?: OmniglotData }> {
  const file = receivedCacheFile(cacheDir, print);
  const read = await readCache(file, { fingerprint: print });
  return { file, read, ...(read.kind === 'hit' ? { data: toData(read.data, read.fingerprint) } : {}) };
}

export async function writeReceived(cacheDir: string, print: string, bytes: Uint8Array): Promise<string> {
  const file = receivedCacheFile(cacheDir, print);
  await writeFileAtomic(file, [bytes]);
  return file;
}
