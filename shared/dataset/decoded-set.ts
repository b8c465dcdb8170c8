import { createHash } from 'node:crypto';
import type { OmniglotSet } from './omniglot-layout.js';
import { RESIZE_KERNEL } from './decode-image.js';

/**
 * The decoded dataset in its compact form: images as ink bytes (0 paper .. 255 ink), as the cache stores them and
 * as the fingerprint hashes them, so that a fresh decode and a cache hit give the same fingerprint bit for bit.
 */
export interface RawSplit {
  readonly size: number;
  /** size * imageSize * imageSize ink bytes, row-major. */
  readonly ink: Uint8Array;
  readonly alphabet: Int32Array;
  readonly character: Int32Array;
  readonly drawer: Uint8Array;
}

export interface DecodedSet {
  readonly set: OmniglotSet;
  readonly imageSize: number;
  readonly alphabets: readonly string[];
  readonly characters: readonly string[];
  readonly characterAlphabet: Int32Array;
  readonly train: RawSplit;
  readonly test: RawSplit;
}

/** Bump when anything that shapes the decoded values changes (kernel, scaling, order); old caches are then rebuilt. */
export const DECODE_VERSION = 1;

/**
 * sha256 over what a trainer consumes: the decode settings, the label tables and every split's bytes. The source
 * zip's hash is deliberately left out: a repacked zip with the same images gives the same fingerprint. Typed arrays
 * are hashed in platform byte order, little-endian on every machine this runs on.
 */
export function fingerprint(data: DecodedSet): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      format: 'omniglot-ddp/dataset',
      version: DECODE_VERSION,
      set: data.set,
      imageSize: data.imageSize,
      kernel: RESIZE_KERNEL,
      value: '(255 - grey) / 255',
      alphabets: data.alphabets,
      characters: data.characters,
    }),
  );
  hash.update(bytesOf(data.characterAlphabet));
  for (const split of [data.train, data.test]) {
    hash.update(`|split ${split.size}|`);
    for (const array of splitArrays(split)) hash.update(bytesOf(array));
  }
  return hash.digest('hex');
}

/** The arrays of a split in their on-disk order. */
export function splitArrays(split: RawSplit): readonly [Uint8Array, Int32Array, Int32Array, Uint8Array] {
  return [split.ink, split.alphabet, split.character, split.drawer];
}

export function bytesOf(array: Uint8Array | Int32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Float value of each ink byte, computed once so the conversion is a table lookup. */
const INK_TO_FLOAT = Float32Array.from({ length: 256 }, (_, q) => q / 255);

/** On shared memory, so that a worker's compute thread reads the images where they are, without a copy. */
export function inkToFloat(ink: Uint8Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(ink.length * 4));
  for (let i = 0; i < ink.length; i++) out[i] = INK_TO_FLOAT[ink[i] ?? 0] ?? 0;
  return out;
}
