import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { DdpError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { TfModule } from './tf-module.js';
import { registerWasmKernels } from './wasm/register.js';
import { simdKernelsUnavailable } from './wasm/simd/simd-kernels.js';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

export function isBackendChoice(s: string): s is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(s);
}

export interface ActiveBackend {
  /** Never 'auto'. */
  readonly name: Exclude<BackendChoice, 'auto'>;
  readonly reason: string;
  readonly tf: TfModule;
}

type Concrete = Exclude<BackendChoice, 'auto'>;
/** One backend tried: started (and why it suits), or passed over (and why). */
export type BackendAttempt = { readonly ok: true; readonly reason: string } | { readonly ok: false; readonly why: string };
type Attempt = BackendAttempt;

const NODE_PACKAGES = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu', tensorflow: '@tensorflow/tfjs-node' } as const;
const INSTALL_HINTS = {
  'tensorflow-gpu': 'npm install @tensorflow/tfjs-node-gpu on a machine with CUDA',
  tensorflow: 'npm install @tensorflow/tfjs-node',
} as const;

let active: ActiveBackend | undefined;
let requested: BackendChoice | undefined;

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
}

function gpuVisible(): boolean {
  return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0') || existsSync('/dev/dxg');
}

/** Imports a tfjs-node package by a name held in a variable, so tsc needs neither it nor its types. */
async function importOptional(pkg: string): Promise<string | undefined> {
  try {
    await import(pkg);
    return undefined;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    return code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} is not installed` : `${pkg} failed to load: ${message(e)}`;
  }
}

async function tryNode(choice: 'tensorflow-gpu' | 'tensorflow'): Promise<Attempt> {
  if (choice === 'tensorflow-gpu' && !gpuVisible()) {
    const missing = await importOptional(NODE_PACKAGES[choice]).catch(() => undefined);
    return { ok: false, why: missing ?? 'no NVIDIA GPU visible (/dev/nvidiactl absent)' };
  }
  const why = await importOptional(NODE_PACKAGES[choice]);
  if (why !== undefined) return { ok: false, why };
  // Both packages register their backend under the name 'tensorflow'.
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, why: `${NODE_PACKAGES[choice]} loaded but its backend did not start` };
  return { ok: true, reason: `${NODE_PACKAGES[choice]} loaded${choice === 'tensorflow-gpu' ? ' and a GPU is visible' : ''}` };
}

async function tryWasm(): Promise<Attempt> {
  try {
    const require = createRequire(import.meta.url);
    // In Node the .wasm binaries must be located explicitly; they sit next to the package's bundles.
    setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
    registerWasmKernels(tf);
    if (!(await tf.setBackend('wasm'))) return { ok: false, why: 'the wasm backend did not initialise' };
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    const ownKernels = simdKernelsUnavailable(tf.backend());
    const kernels = ownKernels === undefined ? 'the project\'s SIMD kernels (gemm, conv, pooling)' : `tfjs kernels only (project SIMD kernels unavailable: ${ownKernels})`;
    return { ok: true, reason: `WebAssembly, ${simd ? 'SIMD' : 'no SIMD (slow)'}, single thread, with ${kernels}` };
  } catch (e) {
    return { ok: false, why: `wasm failed: ${message(e)}` };
  }
}

async function tryCpu(): Promise<Attempt> {
  await tf.setBackend('cpu');
  return { ok: true, reason: 'pure JavaScript backend (slow: for checks only)' };
}

function attempt(choice: Concrete): Promise<Attempt> {
  switch (choice) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return tryNode(choice);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

/**
 * Activates a tfjs backend and returns the tf module to run models with. 'auto' tries tfjs-node-gpu (when a GPU
 * is visible), tfjs-node, wasm, then cpu, and logs why each was passed over. A forced backend that cannot start
 * throws DdpError ERR_BACKEND_UNAVAILABLE saying why and how to get it. Calling again with the same choice returns the same backend.
 */
export async function initBackend(choice: BackendChoice, log: Logger): Promise<ActiveBackend> {
  if (active !== undefined && requested === choice && tf.getBackend() === backendRegistryName(active.name)) return active;
  const picked = await pickBackend(choice, attempt, log);
  active = { ...picked, tf };
  requested = choice;
  log.info({ backend: picked.name, requested: choice, reason: picked.reason }, 'compute backend ready');
  return active;
}

/**
 * The choice on its own, with `tryBackend` starting one candidate (injected in tests, so the choice is tested
 * whatever this machine has installed): the first candidate of the order that starts wins.
 * @throws DdpError ERR_BACKEND_UNAVAILABLE when a forced backend does not start.
 */
export async function pickBackend(choice: BackendChoice, tryBackend: (candidate: Concrete) => Promise<BackendAttempt>,
  log: Logger): Promise<{ readonly name: Concrete; readonly reason: string }> {
  const order: readonly Concrete[] = choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [choice];
  const skipped: string[] = [];
  for (const candidate of order) {
    const result = await tryBackend(candidate);
    if (result.ok) {
      const reason = choice === 'auto' && skipped.length > 0 ? `${result.reason} (${skipped.join('; ')})` : result.reason;
      return { name: candidate, reason };
    }
    if (choice !== 'auto') {
      const hint = candidate === 'tensorflow-gpu' || candidate === 'tensorflow' ? ` (${INSTALL_HINTS[candidate]})` : '';
      throw new DdpError('ERR_BACKEND_UNAVAILABLE', `backend '${candidate}' unavailable: ${result.why}${hint}`);
    }
    skipped.push(`${candidate}: ${result.why}`);
    log.debug({ backend: candidate, why: result.why }, 'compute backend passed over');
  }
  throw new Error('no compute backend could start (even cpu failed)');
}

function backendRegistryName(name: Concrete): string {
  return name === 'tensorflow-gpu' ? 'tensorflow' : name;
}
