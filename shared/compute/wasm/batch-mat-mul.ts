import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { callKernel, requireInput, sizeOf } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { simdMatMul } from './simd-mat-mul.js';
import { transposeLast2 } from './transpose.js';
import { asWasmHeap } from './wasm-heap.js';

const NAME = 'BatchMatMul';

/**
 * BatchMatMul on wasm. Unbatched float32 products go to the project's SIMD gemm (simd-mat-mul.ts). The rest go to
 * the wasm BatchMatMul, wrapped so that it only ever runs untransposed. tfjs-backend-wasm 4.22 reaches XNNPACK
 * (~19 GFLOP/s here) only without transposes; with transposeA/transposeB it falls back to a scalar loop
 * (0.7-1.8 GFLOP/s), and every dense-layer gradient asks for one. An explicit blocked transpose is one memory
 * pass, far cheaper than the slow loop. Of the two exact rewrites (transpose the inputs, or swap the operands and
 * transpose the smaller output: (A^T B)^T = B^T A), it picks the one moving fewer elements.
 */
export function fastBatchMatMulConfig(original: KernelConfig): KernelConfig {
  const originalFunc = original.kernelFunc;
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const transposeA = attrs?.['transposeA'] === true;
    const transposeB = attrs?.['transposeB'] === true;
    const a = requireInput(inputs, 'a', NAME);
    const b = requireInput(inputs, 'b', NAME);
    const kernels = simdKernelsFor(backend);
    const heap = asWasmHeap(backend, NAME);
    const simd = kernels === undefined ? undefined : simdMatMul(kernels, heap, a, b, transposeA, transposeB);
    if (simd !== undefined) return simd;
    if (!transposeA && !transposeB) return originalFunc({ inputs, backend, attrs: attrs ?? {} });
    const transpose = (x: TensorInfo): TensorInfo => transposeLast2(heap, x);
    const release = (...xs: TensorInfo[]): void => xs.forEach((x) => heap.disposeData(x.dataId));
    const plain = (x: TensorInfo, y: TensorInfo): TensorInfo =>
      callKernel(originalFunc, backend, { a: x, b: y }, { transposeA: false, transposeB: false }, NAME);

    const outSize = outputSize(a, b, transposeA, transposeB);
    // Cost, in elements moved, of transposing the inputs as asked vs computing the transposed product.
    const direct = (transposeA ? sizeOf(a) : 0) + (transposeB ? sizeOf(b) : 0);
    const swapped = (transposeA ? 0 : sizeOf(a)) + (transposeB ? 0 : sizeOf(b)) + outSize;
    if (direct <= swapped) {
      const a2 = transposeA ? transpose(a) : a;
      const b2 = transposeB ? transpose(b) : b;
      const out = plain(a2, b2);
      if (a2 !== a) release(a2);
      if (b2 !== b) release(b2);
      return out;
    }
    // out = op(A) op(B) = (op(B)^T op(A)^T)^T, where op(B)^T is B itself when transposeB, else B^T.
    const bt = transposeB ? b : transpose(b);
    const at = transposeA ? a : transpose(a);
    const outT = plain(bt, at);
    const out = transpose(outT);
    release(outT);
    if (bt !== b) release(bt);
    if (at !== a) release(at);
    return out;
  };
  return { ...original, kernelFunc };
}

function outputSize(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): number {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) ?? 1;
  const n = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) ?? 1;
  const batchA = a.shape.slice(0, -2).reduce((x, d) => x * d, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, d) => x * d, 1);
  return Math.max(batchA, batchB) * m * n;
}
