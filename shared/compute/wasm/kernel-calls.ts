import type { DataId, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { elementCount } from '../../common/named-tensor.js';
import type { TfModule } from '../tf-module.js';

/** The part of the wasm backend that composite kernels need: releasing intermediates they made. */
export interface DataDisposer {
  disposeData(dataId: DataId, force?: boolean): boolean;
}

function isDataDisposer(backend: object): backend is DataDisposer {
  return typeof (backend as Partial<DataDisposer>).disposeData === 'function';
}

/**
 * Calls other wasm kernels directly from inside a kernel (no engine, no tape, no profiling of the parts), and
 * releases what they returned. Every intermediate must go through `release`, or wasm memory leaks silently:
 * the engine never sees these tensors.
 */
export class WasmKernelCalls {
  private readonly backend: DataDisposer;

  constructor(
    private readonly tf: TfModule,
    backend: object,
  ) {
    if (!isDataDisposer(backend)) throw new Error('wasm kernels: backend has no disposeData; not the wasm backend?');
    this.backend = backend;
  }

  call(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    return callKernel(this.tf.getKernel(kernelName, 'wasm').kernelFunc, this.backend, inputs, attrs, kernelName);
  }

  reshape(x: TensorInfo, shape: readonly number[]): TensorInfo {
    return this.call('Reshape', { x }, { shape: [...shape] });
  }

  /** Swaps the last two axes. */
  transposeLast2(x: TensorInfo): TensorInfo {
    const rank = x.shape.length;
    const perm = [...Array(rank).keys()];
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return this.call('Transpose', { x }, { perm });
  }

  release(...infos: readonly TensorInfo[]): void {
    for (const info of infos) this.backend.disposeData(info.dataId);
  }
}

/** Runs a kernel function expecting exactly one output. */
export function callKernel(
  kernelFunc: KernelFunc,
  backend: object,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  kernelName: string,
): TensorInfo {
  const out = kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    if (out.length !== 1 || out[0] === undefined) throw new Error(`wasm kernels: ${kernelName} returned ${out.length} outputs`);
    return out[0];
  }
  return out;
}

export function requireInput(inputs: NamedTensorInfoMap, name: string, kernelName: string): TensorInfo {
  const input = inputs[name];
  if (input === undefined) throw new Error(`${kernelName}: missing input '${name}'`);
  return input;
}

export function sizeOf(info: TensorInfo): number {
  return elementCount(info.shape);
}
