/**
 * Where each image sits in the official zips, and the label order every process must agree on.
 *
 * Entry names: `<root>/<Alphabet>/characterNN/<id>_<drawer>.png`, root `images_background` or `images_evaluation`.
 *
 * Label order (fixed: checkpoints, metrics and the fingerprint depend on it):
 * - Alphabets are sorted by folder name in UTF-16 code-unit order (plain `<`, not `localeCompare`, whose result
 *   depends on the ICU locale of the machine); the alphabet index is the position in that order.
 * - Characters are sorted by (alphabet index, character folder number as an integer); the character index counts
 *   globally from 0 over that order (0..963 on the background set). Its name is "<Alphabet>/characterNN".
 * - Rows within a split are ordered by (character index, drawer).
 * - Drawers 01-16 go to train, 17-20 to test, for every character.
 */
import { DdpError } from '../common/errors.js';
import { datasetError } from './errors.js';
import type { ZipEntry } from './zip-reader.js';

export type OmniglotSet = 'background' | 'evaluation';

export const DRAWERS_PER_CHARACTER = 20;
/** Drawers 1..TRAIN_DRAWERS are train, the rest test. */
export const TRAIN_DRAWERS = 16;

/** What a complete set holds; checked on every load so that a partial or foreign zip is refused by name. */
export const EXPECTED: Readonly<Record<OmniglotSet, { readonly alphabets: number; readonly characters: number }>> = {
  background: { alphabets: 30, characters: 964 },
  evaluation: { alphabets: 20, characters: 659 },
};

export function rootFolder(set: OmniglotSet): string {
  return `images_${set}`;
}

export interface ImageRef {
  readonly entry: ZipEntry;
  readonly character: number;
  readonly drawer: number;
}

export interface OmniglotLayout {
  readonly alphabets: readonly string[];
  readonly characters: readonly string[];
  readonly characterAlphabet: Int32Array;
  /** In split row order: (character, drawer). */
  readonly train: readonly ImageRef[];
  readonly test: readonly ImageRef[];
}

const IMAGE_NAME = /^([^/]+)\/([^/]+)\/character(\d+)\/(\d+)_(\d+)\.png$/;

/** Plain code-unit comparison; see the order note at the top of this file. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads the layout from the zip's entry list (no decompression) and checks it is the complete set: the expected
 * alphabet and character counts and drawers 1..20 for every character. With `keepAlphabets`, only the first N
 * alphabets' images are listed; their labels are unchanged because the order above makes a subset a prefix.
 * Throws ERR_DATASET_CORRUPT ("Unexpected layout in <zip>: ...") naming what was found instead.
 */
export function readLayout(zipPath: string, entries: readonly ZipEntry[], set: OmniglotSet, keepAlphabets?: number): OmniglotLayout {
  const root = rootFolder(set);
  const fail = (why: string): DdpError => datasetError('ERR_DATASET_CORRUPT', `Unexpected layout in ${zipPath}: ${why}`);

  // alphabet -> character number -> drawer -> entry
  const tree = new Map<string, Map<number, Map<number, ZipEntry>>>();
  const stray: string[] = [];
  const tops = new Set<string>();
  for (const entry of entries) {
    tops.add(entry.name.split('/')[0] ?? '');
    if (entry.isDirectory || isJunk(entry.name)) continue;
    const m = IMAGE_NAME.exec(entry.name);
    if (!m || m[1] !== root) {
      stray.push(entry.name);
      continue;
    }
    const [, , alphabet = '', characterText = '', , drawerText = ''] = m;
    const characters = getOrAdd(tree, alphabet, () => new Map<number, Map<number, ZipEntry>>());
    const drawers = getOrAdd(characters, Number(characterText), () => new Map<number, ZipEntry>());
    const drawer = Number(drawerText);
    if (drawers.has(drawer)) throw fail(`two images for drawer ${drawer} of ${alphabet}/character${characterText}`);
    drawers.set(drawer, entry);
  }
  if (tree.size === 0) throw fail(`no ${root}/<Alphabet>/characterNN/<id>_<drawer>.png entries; top-level names found: ${[...tops].slice(0, 5).join(', ') || '(none)'}`);
  if (stray.length > 0) throw fail(`${stray.length} entries outside the ${root}/ image layout, e.g. ${stray.slice(0, 3).join(', ')}`);

  const alphabets = [...tree.keys()].sort(compareNames);
  const expected = EXPECTED[set];
  if (alphabets.length !== expected.alphabets) throw fail(`expected ${expected.alphabets} alphabets in ${root}/, found ${alphabets.length}`);
  const total = alphabets.reduce((n, a) => n + (tree.get(a)?.size ?? 0), 0);
  if (total !== expected.characters) throw fail(`expected ${expected.characters} characters in ${root}/, found ${total}`);

  const keep = keepAlphabets ?? alphabets.length;
  if (!Number.isInteger(keep) || keep < 1 || keep > alphabets.length) {
    throw new RangeError(`alphabets must be an integer in 1..${alphabets.length}, got ${keep}`);
  }
  const characters: string[] = [];
  const characterAlphabet: number[] = [];
  const train: ImageRef[] = [];
  const test: ImageRef[] = [];
  for (const [alphabetIndex, alphabet] of alphabets.slice(0, keep).entries()) {
    const byNumber = tree.get(alphabet) ?? new Map<number, Map<number, ZipEntry>>();
    for (const number of [...byNumber.keys()].sort((a, b) => a - b)) {
      const drawers = byNumber.get(number) ?? new Map<number, ZipEntry>();
      const name = `${alphabet}/character${String(number).padStart(2, '0')}`;
      const character = characters.length;
      characters.push(name);
      characterAlphabet.push(alphabetIndex);
      for (let drawer = 1; drawer <= DRAWERS_PER_CHARACTER; drawer++) {
        const entry = drawers.get(drawer);
        if (!entry) throw fail(`${name} has no image for drawer ${drawer} (found drawers ${[...drawers.keys()].sort((a, b) => a - b).join(',')})`);
        (drawer <= TRAIN_DRAWERS ? train : test).push({ entry, character, drawer });
      }
      if (drawers.size !== DRAWERS_PER_CHARACTER) throw fail(`${name} has ${drawers.size} images, expected ${DRAWERS_PER_CHARACTER}`);
    }
  }
  return { alphabets: alphabets.slice(0, keep), characters, characterAlphabet: Int32Array.from(characterAlphabet), train, test };
}

/** Files archivers add on their own (macOS resource forks, Finder metadata); never part of the dataset. */
function isJunk(name: string): boolean {
  return name.startsWith('__MACOSX/') || (name.split('/').at(-1) ?? '').startsWith('.');
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
