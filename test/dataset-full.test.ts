/**
 * THE ONE FULL-SET TEST: decodes all 19,280 background images cold (about 20 s on 2 cores), then loads them again
 * from the cache. Every other dataset test uses a 1-2 alphabet subset.
 */
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALPHABET_CLASSES, CHARACTER_CLASSES } from '../shared/model/heads.js';
import { loadOmniglot } from '../shared/dataset/omniglot.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = process.env['OMNIGLOT_DIR'] || path.resolve(repoRoot, '../shared/omniglot');

test('full background set: counts, label ranges, and a cache hit with the same fingerprint', async (t) => {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'omniglot-full-'));
  let started = performance.now();
  const data = await loadOmniglot({ dir: dataDir, cacheDir });
  t.log(`cold decode ${((performance.now() - started) / 1000).toFixed(1)} s`);
  t.is(data.alphabets.length, ALPHABET_CLASSES);
  t.is(data.characters.length, CHARACTER_CLASSES);
  t.is(data.train.size, 15_424);
  t.is(data.test.size, 3_856);
  t.is(data.alphabets[0], 'Alphabet_of_the_Magi');
  t.is(data.alphabets[29], 'Tifinagh');
  t.is(data.characters[963], 'Tifinagh/character55');
  t.is(data.characterAlphabet[963], 29);
  t.is(Math.max(...data.train.character), 963);
  t.is(Math.max(...data.test.alphabet), 29);
  let ink = 0;
  for (const v of data.test.images) ink += v;
  const mean = ink / data.test.images.length;
  t.true(mean > 0.02 && mean < 0.3, `mean ink ${mean}`);

  started = performance.now();
  const cached = await loadOmniglot({ dir: dataDir, cacheDir });
  const seconds = (performance.now() - started) / 1000;
  t.log(`cache hit ${seconds.toFixed(2)} s`);
  t.is(cached.fingerprint, data.fingerprint);
  t.true(seconds < 5, `cache hit took ${seconds} s`);
});
