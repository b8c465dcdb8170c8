import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import { CONTAINER_VERSION, decodeContainer, encodeContainer, requireSection, type Section } from '../common/container.js';
import { bytesOf, DECODE_VERSION, splitArrays, type DecodedSet, type RawSplit } from './decoded-set.js';
import type { OmniglotSet } from './omniglot-layout.js';

/**
 * One container file (shared/common/container.ts) per decoded set: the header below as its meta, and per split
 * (train, test) sections `<split>.ink` (bytes), `<split>.alphabet`, `<split>.character` (int32) and `<split>.drawer`
 * (uint8), then `characterAlphabet` (int32). Images stay ink bytes on disk (79 MB for the full set instead of 316 MB
 * as float32). The container's checksum covers the header's fingerprint and every byte, so a damaged file is never
 * served.
 */

/** Everything that must match for a cache file to stand for a load: same loader, same source bytes, same subset. */
export interface CacheKey {
  readonly set: OmniglotSet;
  readonly zipSha256: string;
  /** Number of alphabets kept, or 'all'. */
  readonly alphabets: number | 'all';
  readonly imageSize: number;
}

export type CacheRead =
  | { readonly kind: 'hit'; readonly data: DecodedSet; readonly fingerprint: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly reason: string };

export const CACHE_KIND = 'omniglot-ddp/dataset-cache';
const SPLIT_ARRAYS = ['ink', 'alphabet', 'character', 'drawer'] as const;

interface Header {
  /** Checked field by field against the expected key, so it stays loosely typed here. */
  readonly key: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly fingerprint: string;
  readonly alphabets: readonly string[];
  readonly characters: readonly string[];
  readonly trainSize: number;
  readonly testSize: number;
}

export function cacheFile(cacheDir: string, key: CacheKey): string {
  const subset = key.alphabets === 'all' ? 'all' : `a${key.alphabets}`;
  // The container version in the name keeps files of older layouts (and the programs that still read them) apart.
  return path.join(cacheDir, `${key.set}-v${DECODE_VERSION}-${key.imageSize}px-${subset}-${key.zipSha256.slice(0, 16)}-f${CONTAINER_VERSION}.bin`);
}

export async function writeCache(file: string, key: CacheKey, data: DecodedSet, print: string): Promise<void> {
  await writeFileAtomic(file, encodeCacheFile(key, data, print));
}

/** The cache file's bytes, as pieces to write or send in order. */
export function encodeCacheFile(key: CacheKey, data: DecodedSet, print: string): Uint8Array[] {
  const header: Header = {
    key: { ...key },
    version: DECODE_VERSION,
    fingerprint: print,
    alphabets: data.alphabets,
    characters: data.characters,
    trainSize: data.train.size,
    testSize: data.test.size,
  };
  const sections: Section[] = [
    ...(['train', 'test'] as const).flatMap((name) => splitArrays(data[name]).map((array, k) => ({ name: `${name}.${SPLIT_ARRAYS[k]}`, bytes: bytesOf(array) }))),
    { name: 'characterAlphabet', bytes: bytesOf(data.characterAlphabet) },
  ];
  return [...encodeContainer({ kind: CACHE_KIND, meta: header, sections })];
}

/** A cache file on disk, read and verified against what it must stand for; never throws. */
export async function readCache(file: string, expect: CacheExpectation): Promise<CacheRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'invalid', reason: `unreadable (${(error as Error).message})` };
  }
  return parseCacheFile(bytes, expect);
}

/**
 * What a file must stand for: a load's key (a cache file on disk), or only a content fingerprint (a file received
 * from a coordinator, whose source zip this side never saw; its header key is then taken as it is).
 */
export type CacheExpectation = { readonly key: CacheKey } | { readonly fingerprint: string };

/** Parses and verifies a cache file's bytes; never throws: every problem (thrown by parse too) is `invalid`. */
export function parseCacheFile(bytes: Buffer, expect: CacheExpectation): CacheRead {
  try {
    return parse(bytes, expect);
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
}

function parse(bytes: Buffer, expect: CacheExpectation): CacheRead {
  const invalid = (reason: string): CacheRead => ({ kind: 'invalid', reason });
  const container = decodeContainer(bytes, CACHE_KIND, (why) => new Error(why));
  const header = toHeader(container.meta);
  if (!header) return invalid('malformed header');
  if (header.version !== DECODE_VERSION) return invalid(`decode version ${header.version}, loader is ${DECODE_VERSION}`);
  if ('key' in expect && !sameKey(header.key, expect.key)) return invalid('made from another zip, subset or image size');
  // The container's checksum binds the header's fingerprint to the bytes; a received file must carry the one asked for.
  if ('fingerprint' in expect && header.fingerprint !== expect.fingerprint) {
    return invalid(`content fingerprint ${header.fingerprint.slice(0, 12)} is not the expected ${expect.fingerprint.slice(0, 12)}`);
  }
  const key = 'key' in expect ? expect.key : headerKey(header.key);
  if (!key) return invalid('header key is malformed');

  const pixels = key.imageSize * key.imageSize;
  // Copies rather than views: the section offsets are not 4-byte aligned, and views would pin the whole file buffer.
  const take = (name: string, n: number): Uint8Array => Uint8Array.from(requireSection(container, name, n, (why) => new Error(why)));
  const takeInt32 = (name: string, n: number): Int32Array => new Int32Array(take(name, 4 * n).buffer);
  const split = (name: 'train' | 'test', size: number): RawSplit => ({
    size,
    ink: take(`${name}.ink`, size * pixels),
    alphabet: takeInt32(`${name}.alphabet`, size),
    character: takeInt32(`${name}.character`, size),
    drawer: take(`${name}.drawer`, size),
  });
  const data: DecodedSet = {
    set: key.set,
    imageSize: key.imageSize,
    alphabets: header.alphabets,
    characters: header.characters,
    characterAlphabet: takeInt32('characterAlphabet', header.characters.length),
    train: split('train', header.trainSize),
    test: split('test', header.testSize),
  };
  return { kind: 'hit', data, fingerprint: header.fingerprint };
}

function toHeader(value: unknown): Header | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const count = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
  if (
    typeof v['key'] !== 'object' || v['key'] === null ||
    !count(v['version']) || typeof v['fingerprint'] !== 'string' ||
    !strings(v['alphabets']) || !strings(v['characters']) || !count(v['trainSize']) || !count(v['testSize'])
  ) {
    return undefined;
  }
  return {
    key: v['key'] as Record<string, unknown>,
    version: v['version'],
    fingerprint: v['fingerprint'],
    alphabets: v['alphabets'],
    characters: v['characters'],
    trainSize: v['trainSize'],
    testSize: v['testSize'],
  };
}

function sameKey(stored: Readonly<Record<string, unknown>>, key: CacheKey): boolean {
  return (
    stored['set'] === key.set &&
    stored['zipSha256'] === key.zipSha256 &&
    stored['alphabets'] === key.alphabets &&
    stored['imageSize'] === key.imageSize
  );
}

/** A header's key read without an expected one: the fields that shape the body must be sane. */
function headerKey(stored: Readonly<Record<string, unknown>>): CacheKey | undefined {
  const { set, zipSha256, alphabets, imageSize } = stored;
  if (set !== 'background' && set !== 'evaluation') return undefined;
  if (typeof zipSha256 !== 'string' || !(alphabets === 'all' || (Number.isInteger(alphabets) && Number(alphabets) >= 1))) return undefined;
  if (!Number.isInteger(imageSize) || Number(imageSize) < 1 || Number(imageSize) > 1024) return undefined;
  return { set, zipSha256, alphabets: alphabets as number | 'all', imageSize: Number(imageSize) };
}
