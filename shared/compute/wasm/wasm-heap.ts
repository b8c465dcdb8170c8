import type { DataId, DataType, TensorInfo } from '@tensorflow/tfjs';

/**
 * The wasm backend's own memory access, as its JS-side kernels (Slice, Concat) use it. Kernels here fill
 * outputs in place in JS when the wasm kernel for the job is slow or missing: a tight typed-array loop in V8 is
 * faster than tfjs-backend-wasm 4.22's generic C++ Transpose / MaxPoolGrad and its per-row JS Slice.
 */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

export function asWasmHeap(backend: object, kernelName: string): WasmHeap {
  const b = backend as Partial<WasmHeap>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || typeof b.disposeData !== 'function') {
    throw new Error(`${kernelName}: not running on the wasm backend (no heap access)`);
  }
  return backend as WasmHeap;
}

/**
 * A float32 view of a tensor's wasm memory. Take views only after the last makeOutput of a kernel: allocating
 * can grow the wasm memory, which detaches earlier views.
 */
export function floatView(heap: WasmHeap, info: TensorInfo, kernelName: string): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`${kernelName}: only float32 is supported, got ${info.dtype}`);
  const view = heap.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) throw new Error(`${kernelName}: expected a float32 heap view`);
  return view;
}

/** The byte offset of a float32 tensor's data in the wasm heap, as the SIMD kernels take it. */
export function heapOffset(heap: WasmHeap, info: TensorInfo, kernelName: string): number {
  return floatView(heap, info, kernelName).byteOffset;
}
