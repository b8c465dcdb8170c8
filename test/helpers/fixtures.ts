import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, type ActiveBackend } from '../../shared/compute/backend.js';
import { loadOmniglot, type OmniglotData } from '../../shared/dataset/omniglot.js';
import { silentLogger } from '../../shared/logging/logger.js';

/** The repository root (tests run from dist/test/...). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The real Omniglot release: OMNIGLOT_DIR, or ../shared/omniglot beside the checkout. */
export const omniglotDir = process.env['OMNIGLOT_DIR'] ?? path.resolve(repoRoot, '../shared/omniglot');

/** Decoded-set caches for tests live in the project's ignored .cache folder. */
export const testCacheDir = path.join(repoRoot, '.cache', 'test-datasets');

const subsets = new Map<number, Promise<OmniglotData>>();

/** The first `alphabets` alphabets of the real background set, loaded once per test process. */
export function omniglotSubset(alphabets: number): Promise<OmniglotData> {
  let data = subsets.get(alphabets);
  if (!data) {
    data = loadOmniglot({ dir: omniglotDir, cacheDir: testCacheDir, alphabets, download: false });
    subsets.set(alphabets, data);
  }
  return data;
}

let backend: Promise<ActiveBackend> | undefined;

/** The backend `auto` picks on this machine (wasm here), initialised once per test process. */
export function testBackend(): Promise<ActiveBackend> {
  backend ??= initBackend('auto', silentLogger());
  return backend;
}

let port = 27000 + (process.pid % 2000) * 10;

/** A loopback endpoint no other test in this run uses. */
export function uniqueEndpoint(): string {
  port += 1;
  return `tcp://127.0.0.1:${port}`;
}

/** A fresh working folder for a CLI child process, so its default run folder (runs/...) lands outside the checkout. */
export function scratchCwd(): string {
  return mkdtempSync(path.join(tmpdir(), 'omniglot-ddp-cli-'));
}
