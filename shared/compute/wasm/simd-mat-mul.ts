import type { TensorInfo } from '@tensorflow/tfjs';
import { gemmFits, rowMajor, simdGemm, transposed, type MatrixView } from './gemm.js';
import type { SimdKernels } from './simd/simd-kernels.js';
import { transposeLast2 } from './transpose.js';
import type { WasmHeap } from './wasm-heap.js';

const NAME = 'BatchMatMul';

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
export function simdMatMul(kernels: SimdKernels, heap: WasmHeap, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | undefined {
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
