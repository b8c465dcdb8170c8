import { KERNELS_WASM_BASE64 } from './kernels-binary.js';

/**
 * The exports of kernels.wat: 128-bit SIMD kernels running directly on tfjs-backend-wasm's heap. Pointers are
 * byte offsets into that heap, strides are in bytes. Preconditions (checked by the callers): see kernels.wat.
 */
export interface SimdKernels {
  gemm(m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, ldb: number,
    c: number, crs: number, accumulate: number): void;
  maxPool2x2Grad(x: number, dy: number, dx: number, rows: number, outWidth: number, channels: number): void;
  addBias(x: number, bias: number, out: number, rows: number, width: number): void;
  addSame(a: number, b: number, out: number, n: number): void;
  sumRows(x: number, out: number, rows: number, width: number): void;
  transpose(x: number, out: number, rows: number, cols: number): void;
  im2colPixels(x: number, out: number, batch: number, height: number, width: number, channels: number,
    filterHeight: number, filterWidth: number, padTop: number, padLeft: number, outHeight: number, outWidth: number): void;
}

const EXPORTS: readonly (keyof SimdKernels)[] = ['gemm', 'maxPool2x2Grad', 'addBias', 'addSame', 'sumRows', 'transpose', 'im2colPixels'];

interface EmscriptenModule {
  readonly asm?: { readonly memory?: unknown };
}

let compiled: WebAssembly.Module | undefined;
const byBackend = new WeakMap<object, SimdKernels | Error>();

/** The kernels linked to `memory`: tfjs-backend-wasm's heap, or a memory of the caller's own (shared/exchange). */
export function simdKernelsOn(memory: WebAssembly.Memory): SimdKernels {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  const { exports } = new WebAssembly.Instance(compiled, { env: { memory } });
  for (const name of EXPORTS) {
    if (typeof exports[name] !== 'function') throw new Error(`simd kernels: export ${name} missing; regenerate kernels-binary.ts`);
  }
  return exports as unknown as SimdKernels;
}

/**
 * The SIMD kernels bound to a wasm backend's memory, instantiated once per backend; undefined (and the reason
 * kept for `simdKernelsUnavailable`) where they cannot link, e.g. a threaded build whose memory is shared.
 */
export function simdKernelsFor(backend: object): SimdKernels | undefined {
  let entry = byBackend.get(backend);
  if (entry === undefined) {
    try {
      const memory = (backend as { wasm?: EmscriptenModule }).wasm?.asm?.memory;
      if (!(memory instanceof WebAssembly.Memory)) throw new Error('the wasm backend exposes no WebAssembly.Memory (wasm.asm.memory)');
      entry = simdKernelsOn(memory);
    } catch (e) {
      entry = e instanceof Error ? e : new Error(String(e));
    }
    byBackend.set(backend, entry);
  }
  return entry instanceof Error ? undefined : entry;
}

/** Why the SIMD kernels are not in use on this backend, or undefined when they are. */
export function simdKernelsUnavailable(backend: object): string | undefined {
  simdKernelsFor(backend);
  const entry = byBackend.get(backend);
  return entry instanceof Error ? entry.message : undefined;
}
