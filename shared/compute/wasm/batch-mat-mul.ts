import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { gemmFits, rowMajor, simdGemm, transposed, type MatrixView } from './gemm.js';
import { callKernel, requireInput, sizeOf } from './kernel-calls.js';
import { simdKernelsFor, type SimdKernels } from './simd/simd-kernels.js';
import { transposeLast2 } from './transpose.js';
import { asWasmHeap, type WasmHeap } from './wasm-heap.js';

const NAME = 'BatchMatMul';

/**
 * BatchMatMul on wasm. Unbatched float32 products go to the project's SIMD gemm (simdMatMul below). The rest go to
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

const last2 = (x: TensorInfo): [number, number] => [x.shape[x.shape.length - 2] ?? 1, x.shape[x.shape.length - 1] ?? 1];
const unbatched = (x: TensorInfo): boolean => x.shape.length >= 2 && x.shape.slice(0, -2).every((d) => d === 1);

// A left operand read column-wise is fine while small; past this many elements the strided reads (often 4 KiB
// apart: conflict misses) cost more than one SIMD transpose.
const STRIDED_LEFT_LIMIT = 1 << 16;

interface Operand {
  readonly view: MatrixView;
  /** Elements copied to lay this operand out as needed (0: used in place). */
  readonly copies: number;
  readonly lay: () => MatrixView;
}

/** A gemm left operand (rows x cols, any layout): in place, or transposed into row-major first when large. */
function leftOperand(heap: WasmHeap, x: TensorInfo, isTransposed: boolean, rows: number, cols: number): Operand {
  const view = isTransposed ? transposed(x, rows) : rowMajor(x, cols);
  if (!isTransposed || rows * cols <= STRIDED_LEFT_LIMIT) return { view, copies: 0, lay: () => view };
  return { view, copies: rows * cols, lay: () => rowMajor(transposeLast2(heap, x), cols) };
}

/** A gemm right operand (rows x cols), which must be row-major: transposed first when stored the other way. */
function rightOperand(heap: WasmHeap, x: TensorInfo, isTransposed: boolean, rows: number, cols: number): Operand {
  const view = rowMajor(x, cols);
  if (!isTransposed) return { view, copies: 0, lay: () => view };
  return { view, copies: rows * cols, lay: () => rowMajor(transposeLast2(heap, x), cols) };
}

/**
 * op(A) op(B) with the SIMD gemm, for float32 products without batch dims; undefined where it does not apply.
 * The gemm wants its right operand's rows contiguous, so it runs one of two exact forms:
 *   direct:  C = op(A) . op(B);
 *   swapped: C^T = op(B)^T . op(A)^T, then one SIMD transpose into C (written straight through strides, C rows
 *            4 KiB apart thrashed the cache);
 * and picks the one that moves fewer elements. Unlike XNNPACK it packs nothing: XNNPACK repacks its right operand
 * whenever that tensor is new, which for a dense layer's fresh weights every step cost more than the product.
 */
function simdMatMul(kernels: SimdKernels, heap: WasmHeap, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !unbatched(a) || !unbatched(b)) return undefined;
  const [aRows, aCols] = last2(a);
  const [bRows, bCols] = last2(b);
  const [m, k] = transposeA ? [aCols, aRows] : [aRows, aCols];
  const [k2, n] = transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== k2) return undefined; // the original kernel reports the mismatch
  const direct = { left: leftOperand(heap, a, transposeA, m, k), right: rightOperand(heap, b, transposeB, k, n) };
  const swapped = { left: leftOperand(heap, b, !transposeB, n, k), right: rightOperand(heap, a, !transposeA, k, m) };
  const directCost = gemmFits(m, n, k) ? direct.left.copies + direct.right.copies : Number.POSITIVE_INFINITY;
  const swappedCost = gemmFits(n, m, k) ? swapped.left.copies + swapped.right.copies + m * n : Number.POSITIVE_INFINITY;
  if (directCost === Number.POSITIVE_INFINITY && swappedCost === Number.POSITIVE_INFINITY) return undefined;
  const outShape = [...Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n];
  const useDirect = directCost <= swappedCost;
  const { left, right } = useDirect ? direct : swapped;
  const leftView = left.lay();
  const rightView = right.lay();
  const product = heap.makeOutput(useDirect ? outShape : [n, m], 'float32');
  simdGemm(kernels, heap, NAME, useDirect ? { m, n, k } : { m: n, n: m, k }, leftView, rightView, rowMajor(product, useDirect ? n : m));
  for (const view of [leftView, rightView]) {
    if (view.tensor !== a && view.tensor !== b) heap.disposeData(view.tensor.dataId);
  }
  if (useDirect) return product;
  const out = transposeLast2(heap, product, outShape);
  heap.disposeData(product.dataId);
  return out;
}
