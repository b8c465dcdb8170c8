import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { bytesOf, DECODE_VERSION, fingerprint, splitArrays, type DecodedSet, type RawSplit } from './decoded-set.js';
import type { OmniglotSet } from './omniglot-layout.js';

/**
 * One binary file per decoded set:
 *   8 bytes magic, uint32 LE header length, the JSON header, then per split (train, test) the ink bytes, alphabet
 *   (int32), character (int32) and drawer (uint8) arrays, then characterAlphabet (int32).
 * Images stay ink bytes on disk (79 MB for the full set instead of 316 MB as float32). Every read recomputes the
 * fingerprint over the body and compares it with the header's, so a damaged file is never served.
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

const MAGIC = Buffer.from('OMNIDS\x00\x01', 'latin1');

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
  return path.join(cacheDir, `${key.set}-v${DECODE_VERSION}-${key.imageSize}px-${subset}-${key.zipSha256.slice(0, 16)}.bin`);
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
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const body = [data.train, data.test].flatMap((split) => splitArrays(split).map(bytesOf));
  return [MAGIC, length, json, ...body, bytesOf(data.characterAlphabet)];
}

export async function readCache(file: string, key: CacheKey): Promise<CacheRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'invalid', reason: `unreadable (${(error as Error).message})` };
  }
  return parseCacheFile(bytes, { key });
}

/**
 * What a file must stand for: a load's key (a cache file on disk), or only a content fingerprint (a file received
 * from a coordinator, whose source zip this side never saw; its header key is then taken as it is).
 */
export type CacheExpectation = { readonly key: CacheKey } | { readonly fingerprint: string };

/** Parses and verifies a cache file's bytes; never throws. */
export function parseCacheFile(bytes: Buffer, expect: CacheExpectation): CacheRead {
  try {
    return parse(bytes, expect);
  } catch (error) {
    return { kind: 'invalid', reason: (error as Error).message };
  }
}

function parse(bytes: Buffer, expect: CacheExpectation): CacheRead {
  const invalid = (reason: string): CacheRead => ({ kind: 'invalid', reason });
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(MAGIC)) return invalid('bad magic');
  const headerEnd = 12 + bytes.readUInt32LE(8);
  if (headerEnd > bytes.length) return invalid('header runs past the end');
  const header = toHeader(JSON.parse(bytes.toString('utf8', 12, headerEnd)));
  if (!header) return invalid('malformed header');
  if (header.version !== DECODE_VERSION) return invalid(`decode version ${header.version}, loader is ${DECODE_VERSION}`);
  if ('key' in expect && !sameKey(header.key, expect.key)) return invalid('made from another zip, subset or image size');
  const key = 'key' in expect ? expect.key : headerKey(header.key);
  if (!key) return invalid('header key is malformed');

  const pixels = key.imageSize * key.imageSize;
  const characterCount = header.characters.length;
  const splitBytes = (n: number): number => n * (pixels + 4 + 4 + 1);
  const expected = headerEnd + splitBytes(header.trainSize) + splitBytes(header.testSize) + 4 * characterCount;
  if (bytes.length !== expected) return invalid(`${bytes.length} bytes, expected ${expected} (truncated?)`);

  let at = headerEnd;
  // Copies rather than views: the body offsets are not 4-byte aligned, and views would pin the whole file buffer.
  const take = (n: number): Uint8Array => Uint8Array.from(bytes.subarray(at, (at += n)));
  const takeInt32 = (n: number): Int32Array => new Int32Array(take(4 * n).buffer);
  const split = (size: number): RawSplit => ({
    size,
    ink: take(size * pixels),
    alphabet: takeInt32(size),
    character: takeInt32(size),
    drawer: take(size),
  });
  const train = split(header.trainSize);
  const test = split(header.testSize);
  const data: DecodedSet = {
    set: key.set,
    imageSize: key.imageSize,
    alphabets: header.alphabets,
    characters: header.characters,
    characterAlphabet: takeInt32(characterCount),
    train,
    test,
  };
  const actual = fingerprint(data);
  if (actual !== header.fingerprint) return invalid(`content fingerprint ${actual.slice(0, 12)} does not match its header's ${header.fingerprint.slice(0, 12)}`);
  if ('fingerprint' in expect && actual !== expect.fingerprint) return invalid(`content fingerprint ${actual.slice(0, 12)} is not the expected ${expect.fingerprint.slice(0, 12)}`);
  return { kind: 'hit', data, fingerprint: actual };
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

/** A header's key read without an expected one: the fields that shape the body must be sane. */
function headerKey(stored: Readonly<Record<string, unknown>>): CacheKey | undefined {
  const { set, zipSha256, alphabets, imageSize } = stored;
  if (set !== 'background' && set !== 'evaluation') return undefined;
  if (typeof zipSha256 !== 'string' || !(alphabets === 'all' || (Number.isInteger(alphabets) && Number(alphabets) >= 1))) return undefined;
  if (!Number.isInteger(imageSize) || Number(imageSize) < 1 || Number(imageSize) > 1024) return undefined;
  return { set, zipSha256, alphabets: alphabets as number | 'all', imageSize: Number(imageSize) };
}

function sameKey(stored: Readonly<Record<string, unknown>>, key: CacheKey): boolean {
  return (
    stored['set'] === key.set &&
    stored['zipSha256'] === key.zipSha256 &&
    stored['alphabets'] === key.alphabets &&
    stored['imageSize'] === key.imageSize
  );
}
