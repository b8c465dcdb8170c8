import type { TensorInfo } from '@tensorflow/tfjs';
import { elementCount } from '../../common/named-tensor.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { floatView, type WasmHeap } from './wasm-heap.js';

// Small blocks: with 32 the strided writes of tall matrices (row pitch a multiple of 4 KiB) thrash the cache.
const BLOCK = 8;

/**
 * Swaps the last two axes of a float32 tensor ([..., r, c] -> [..., c, r]): with the SIMD kernel (4x4 blocks in
 * registers) where it links, else in cache-sized blocks in JS. Both are several times faster here than the wasm
 * Transpose kernel on tall matrices (~17 ns per element there, ~1 in JS). `outShape` may relabel the leading axes
 * (same size); the default keeps them.
 */
export function transposeLast2(heap: WasmHeap, x: TensorInfo, outShape?: readonly number[]): TensorInfo {
  const rank = x.shape.length;
  if (rank < 2) throw new Error(`transposeLast2: rank ${rank} < 2`);
  const rows = x.shape[rank - 2] ?? 1;
  const cols = x.shape[rank - 1] ?? 1;
  const shape = [...(outShape ?? [...x.shape.slice(0, -2), cols, rows])];
  if (elementCount(shape) !== elementCount(x.shape)) throw new Error(`transposeLast2: output shape [${shape}] does not hold [${x.shape}]`);
  const out = heap.makeOutput(shape, 'float32');
  const kernels = simdKernelsFor(heap);
  if (kernels !== undefined) {
    const plane = 4 * rows * cols;
    const from = floatView(heap, x, 'transposeLast2').byteOffset;
    const to = floatView(heap, out, 'transposeLast2').byteOffset;
    const batches = plane === 0 ? 0 : (4 * elementCount(x.shape)) / plane;
    for (let b = 0; b < batches; b++) kernels.transpose(from + b * plane, to + b * plane, rows, cols);
    return out;
  }
  const src = floatView(heap, x, 'transposeLast2');
  const dst = floatView(heap, out, 'transposeLast2');
  const plane = rows * cols;
  const batches = plane === 0 ? 0 : src.length / plane;
  for (let b = 0; b < batches; b++) {
    const base = b * plane;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const r1 = Math.min(r0 + BLOCK, rows);
      for (let c0 = 0; c0 < cols; c0 += BLOCK) {
        const c1 = Math.min(c0 + BLOCK, cols);
        for (let r = r0; r < r1; r++) {
          const from = base + r * cols;
          for (let c = c0; c < c1; c++) dst[base + c * rows + r] = src[from + c] as number;
        }
      }
    }
  }
  return out;
}
