import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, type ActiveBackend } from '../../shared/compute/backend.js';
import { gatherBatch, loadOmniglot, type OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Batch } from '../../shared/model/batch.js';
import { silentLogger } from '../../shared/common/logger.js';

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

/**
 * A loopback endpoint on a port the OS says is free now. Fixed ports per test process collide when the ava
 * processes' ranges overlap; an ephemeral port cannot. For a coordinator that may bind anywhere, prefer
 * `tcp://127.0.0.1:*` and read `coordinator.endpoint`; this is for addresses needed before the bind (restarts).
 */
export async function freeEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the OS');
  return `tcp://127.0.0.1:${address.port}`;
}

/** A fresh working folder for a CLI child process, so its default run folder (runs/...) lands outside the checkout. */
export function scratchCwd(): string {
  return mkdtempSync(path.join(tmpdir(), 'omniglot-ddp-cli-'));
}

/**
 * `count` real training images spread over the first two alphabets, with their labels. Real images matter for the
 * compute checks: their blank backgrounds make max-pool windows tie, which random data never does.
 */
export async function realOmniglotBatch(count: number): Promise<Batch> {
  const data = await omniglotSubset(2);
  const step = Math.floor(data.train.size / count);
  return gatherBatch(data.train, Uint32Array.from({ length: count }, (_, i) => i * step));
}
