import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { requireInput, sizeOf } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { asWasmHeap, heapOffset } from './wasm-heap.js';

const NAME = 'Add';

const sameShape = (a: TensorInfo, b: TensorInfo): boolean => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** `bias` is 1-D and matches x's last axis: a bias broadcast over every row of x. */
const isBiasOf = (bias: TensorInfo, x: TensorInfo): boolean =>
  bias.shape.length === 1 && x.shape.length >= 2 && bias.shape[0] === x.shape[x.shape.length - 1];

/**
 * Add on wasm with SIMD fast paths for the two float32 cases the models run: a bias over the last axis (every
 * dense and conv layer; the wasm kernel's generic broadcasting loop took ~2 ns per element) and equal shapes
 * (gradient accumulation). Everything else goes to the original kernel.
 */
export function addConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend } = args;
    const a = requireInput(inputs, 'a', NAME);
    const b = requireInput(inputs, 'b', NAME);
    const kernels = simdKernelsFor(backend);
    if (kernels === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return original.kernelFunc(args);
    const heap = asWasmHeap(backend, NAME);
    if (sameShape(a, b)) {
      const out = heap.makeOutput([...a.shape], 'float32');
      kernels.addSame(heapOffset(heap, a, NAME), heapOffset(heap, b, NAME), heapOffset(heap, out, NAME), sizeOf(a));
      return out;
    }
    // Float addition commutes exactly, so x + bias and bias + x are the same kernel.
    const [x, bias] = isBiasOf(b, a) ? [a, b] : isBiasOf(a, b) ? [b, a] : [undefined, undefined];
    const width = bias?.shape[0] ?? 0;
    if (x === undefined || bias === undefined || width % 4 !== 0 || width === 0) return original.kernelFunc(args);
    const out = heap.makeOutput([...x.shape], 'float32');
    kernels.addBias(heapOffset(heap, x, NAME), heapOffset(heap, bias, NAME), heapOffset(heap, out, NAME), sizeOf(x) / width, width);
    return out;
  };
  return { ...original, kernelFunc };
}
