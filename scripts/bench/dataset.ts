/**
 * Times a cold decode and a cache hit of the Omniglot background set into a fresh temp cache folder.
 * Usage: node dist/scripts/bench/dataset.js [alphabets]   (data from OMNIGLOT_DIR or ../shared/omniglot)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOmniglot } from '../../shared/dataset/omniglot.js';
import { createLogger } from '../../shared/common/logger.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = process.env['OMNIGLOT_DIR'] ?? path.resolve(repoRoot, '../shared/omniglot');
const alphabets = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'omniglot-bench-'));
const log = createLogger({ level: 'info' });
try {
  for (const run of ['cold', 'cached']) {
    const started = performance.now();
    const data = await loadOmniglot({ dir, cacheDir, log, ...(alphabets !== undefined && { alphabets }) });
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    console.log(`${run}: ${seconds} s, train ${data.train.size}, test ${data.test.size}, ${data.alphabets.length} alphabets, ` +
      `${data.characters.length} characters, fingerprint ${data.fingerprint.slice(0, 16)}`);
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
