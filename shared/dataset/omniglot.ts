import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../common/logger.js';
import { IMAGE_SIZE } from '../model/batch.js';
import { cacheFile, readCache, writeCache, type CacheKey } from './dataset-cache.js';
import { decodeInk, runPool } from './decode-image.js';
import { fingerprint, inkToFloat, type DecodedSet, type RawSplit } from './decoded-set.js';
import { describeError } from './errors.js';
import { locateZip } from './locate-zip.js';
import { EXPECTED, readLayout, type ImageRef, type OmniglotSet } from './omniglot-layout.js';
import { zipDigest } from './zip-digest.js';
import { ZipReader } from './zip-reader.js';

export { gatherBatch } from './gather-batch.js';
export { isDatasetError, type DatasetErrorCode } from './errors.js';

export interface Split {
  readonly size: number;
  /** size * 64 * 64 values in [0, 1], ink = 1, row-major per image. */
  readonly images: Float32Array;
  readonly alphabet: Int32Array;
  readonly character: Int32Array;
  /** 1..20, the drawer number in the file name. */
  readonly drawer: Uint8Array;
}

export interface OmniglotData {
  /** sha256 hex of the decoded content, labels and decode settings: workers with a different dataset are refused. */
  readonly fingerprint: string;
  /** Index -> alphabet folder name; see omniglot-layout.ts for the order. */
  readonly alphabets: readonly string[];
  /** Index -> "<Alphabet>/characterNN". */
  readonly characters: readonly string[];
  /** Character index -> alphabet index. */
  readonly characterAlphabet: Int32Array;
  /** Drawers 01-16 (15,424 images on the full background set). */
  readonly train: Split;
  /** Drawers 17-20 (3,856 images). */
  readonly test: Split;
  /** What the set was decoded from, when loaded by this module; a coordinator sends the set on with it. */
  readonly source?: CacheKey;
}

export interface LoadOptions {
  /** Folder holding images_background.zip; else env OMNIGLOT_DIR; else the cache folder, downloading if allowed. */
  readonly dir?: string;
  /** Default: $XDG_CACHE_HOME/omniglot-ddp or ~/.cache/omniglot-ddp. */
  readonly cacheDir?: string;
  /** Keep only the first N alphabets (in label order), for quick tests. Labels stay 0.. as the subset is a prefix. */
  readonly alphabets?: number;
  /** Default true: with no dir and no cached zip, download from the official source. */
  readonly download?: boolean;
  /** Base URL to download from instead of the official one (or env OMNIGLOT_DOWNLOAD_URL). */
  readonly downloadUrl?: string;
  readonly log?: Logger;
}

/**
 * Loads the Omniglot background set, decoded to 64x64 ink images and split by drawer. The first load decodes the
 * zip and writes a cache file keyed by the zip's sha256 and the decoder version; later loads read that file
 * (logged as 'dataset cache hit') and verify its checksum, rebuilding it if damaged.
 * Throws DdpError (shared/common/errors.ts): ERR_DATASET_MISSING, ERR_DOWNLOAD, ERR_DATASET_CORRUPT (also for a zip without
 * the Omniglot layout), ERR_IMAGE_DECODE; RangeError for a bad `alphabets`.
 */
export async function loadOmniglot(options: LoadOptions = {}): Promise<OmniglotData> {
  return loadSet('background', options);
}

/** The evaluation set (20 alphabets, 659 characters) with the same labelling, split and caching rules. */
export async function loadOmniglotEvaluation(options: LoadOptions = {}): Promise<OmniglotData> {
  return loadSet('evaluation', options);
}

export function defaultCacheDir(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return path.join(xdg ? xdg : path.join(os.homedir(), '.cache'), 'omniglot-ddp');
}

async function loadSet(set: OmniglotSet, options: LoadOptions): Promise<OmniglotData> {
  const log = (options.log ?? silentLogger()).child({ component: 'dataset', set });
  const total = EXPECTED[set].alphabets;
  const keep = options.alphabets;
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1 || keep > total)) {
    throw new RangeError(`LoadOptions.alphabets must be an integer in 1..${total}, got ${keep}`);
  }
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir());
  // Without a usable cache folder the load still works from `dir`, only slower next time; a download fails later
  // with its own message.
  await mkdir(cacheDir, { recursive: true }).catch((error: unknown) => log.warn({ cacheDir, err: describeError(error) }, 'dataset cache folder unusable'));
  const zipPath = await locateZip(set, {
    cacheDir,
    download: options.download ?? true,
    log,
    ...(options.dir !== undefined && { dir: options.dir }),
    ...(options.downloadUrl !== undefined && { downloadUrl: options.downloadUrl }),
  });

  const started = performance.now();
  const key: CacheKey = {
    set,
    zipSha256: await zipDigest(zipPath, cacheDir),
    alphabets: keep === undefined || keep === total ? 'all' : keep,
    imageSize: IMAGE_SIZE,
  };
  const file = cacheFile(cacheDir, key);
  const cached = await readCache(file, { key });
  if (cached.kind === 'hit') {
    log.info({ file, fingerprint: cached.fingerprint, ms: Math.round(performance.now() - started) }, 'dataset cache hit');
    return toData(cached.data, cached.fingerprint, key);
  }
  if (cached.kind === 'invalid') log.warn({ file, reason: cached.reason }, 'dataset cache invalid, rebuilding');
  else log.info({ file }, 'dataset cache miss');

  const decoded = await decodeZip(zipPath, set, key.alphabets === 'all' ? undefined : key.alphabets, log);
  const print = fingerprint(decoded);
  try {
    await writeCache(file, key, decoded, print);
    log.info({ file, fingerprint: print }, 'dataset cache written');
  } catch (error) {
    // A read-only or full cache folder costs the next run a decode, not this run its data.
    log.warn({ file, err: describeError(error) }, 'dataset cache not written');
  }
  return toData(decoded, print, key);
}

async function decodeZip(zipPath: string, set: OmniglotSet, keep: number | undefined, log: Logger): Promise<DecodedSet> {
  const started = performance.now();
  const zip = await ZipReader.open(zipPath);
  const layout = readLayout(zipPath, zip.entries, set, keep);
  const pixels = IMAGE_SIZE * IMAGE_SIZE;
  const train = emptySplit(layout.train, layout.characterAlphabet, pixels);
  const test = emptySplit(layout.test, layout.characterAlphabet, pixels);
  const jobs = [
    ...layout.train.map((ref, row) => ({ ref, row, split: train })),
    ...layout.test.map((ref, row) => ({ ref, row, split: test })),
  ];
  log.info({ zip: zipPath, images: jobs.length }, 'decoding dataset');
  await runPool(jobs.length, async (i) => {
    const job = jobs[i];
    if (!job) return;
    // Inflated one at a time inside the pool so the whole set never sits decompressed in memory.
    const png = zip.read(job.ref.entry);
    await decodeInk(png, IMAGE_SIZE, job.split.ink, job.row * pixels, `${zipPath}: ${job.ref.entry.name}`);
  });
  log.info({ images: jobs.length, ms: Math.round(performance.now() - started) }, 'decoded dataset');
  return {
    set,
    imageSize: IMAGE_SIZE,
    alphabets: layout.alphabets,
    characters: layout.characters,
    characterAlphabet: layout.characterAlphabet,
    train,
    test,
  };
}

function emptySplit(refs: readonly ImageRef[], characterAlphabet: Int32Array, pixels: number): RawSplit {
  return {
    size: refs.length,
    ink: new Uint8Array(refs.length * pixels),
    alphabet: Int32Array.from(refs, (r) => characterAlphabet[r.character] ?? -1),
    character: Int32Array.from(refs, (r) => r.character),
    drawer: Uint8Array.from(refs, (r) => r.drawer),
  };
}

/** The trainer's view of a decoded set: float images. */
export function toData(data: DecodedSet, print: string, source?: CacheKey): OmniglotData {
  const split = (raw: RawSplit): Split => ({
    size: raw.size,
    images: inkToFloat(raw.ink),
    alphabet: raw.alphabet,
    character: raw.character,
    drawer: raw.drawer,
  });
  return {
    fingerprint: print,
    alphabets: data.alphabets,
    characters: data.characters,
    characterAlphabet: data.characterAlphabet,
    train: split(data.train),
    test: split(data.test),
    ...(source ? { source } : {}),
  };
}
