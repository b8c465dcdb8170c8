import type { TensorInfo } from '@tensorflow/tfjs';
import type { SimdKernels } from './simd/simd-kernels.js';
import { heapOffset, type WasmHeap } from './wasm-heap.js';

/** A matrix operand in the heap: element (r, c) at tensor + r*rowStride + c*colStride (in elements). */
export interface MatrixView {
  readonly tensor: TensorInfo;
  readonly rowStride: number;
  readonly colStride: number;
}

export const rowMajor = (tensor: TensorInfo, cols: number): MatrixView => ({ tensor, rowStride: cols, colStride: 1 });
export const transposed = (tensor: TensorInfo, cols: number): MatrixView => ({ tensor, rowStride: 1, colStride: cols });

/** Whether the SIMD gemm can compute an m x n x k product: n a multiple of 4 (its vector width), nothing empty. */
export function gemmFits(m: number, n: number, k: number): boolean {
  return m > 0 && k > 0 && n > 0 && n % 4 === 0;
}

/**
 * C (m x n) = A (m x k) . B (k x n) with the SIMD kernel: A in any layout, B and C with contiguous rows
 * (colStride 1). Call gemmFits first.
 */
export function simdGemm(
  kernels: SimdKernels,
  heap: WasmHeap,
  name: string,
  dims: { readonly m: number; readonly n: number; readonly k: number },
  a: MatrixView,
  b: MatrixView,
  c: MatrixView,
): void {
  const { m, n, k } = dims;
  if (!gemmFits(m, n, k) || b.colStride !== 1 || c.colStride !== 1) throw new Error(`${name}: gemm ${m}x${n}x${k} does not fit the SIMD kernel`);
  kernels.gemm(
    m, n, k,
    heapOffset(heap, a.tensor, name), 4 * a.rowStride, 4 * a.colStride,
    heapOffset(heap, b.tensor, name), 4 * b.rowStride,
    heapOffset(heap, c.tensor, name), 4 * c.rowStride,
    0,
  );
}
