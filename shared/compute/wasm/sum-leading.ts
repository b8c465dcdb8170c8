import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';
import { requireInput } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { asWasmHeap, floatView } from './wasm-heap.js';

const NAME = 'Sum';

/**
 * Sum on wasm, with a fast path for reducing leading axes (a bias gradient: [n, h, w, c] -> [c]). The wasm kernel
 * first transposes the reduced axes to the end with its slow generic Transpose; a row-by-row accumulation (in
 * float64) reads the data once: a SIMD kernel when the kept width is a multiple of 4, else a JS loop, both adding
 * rows in order in float64 (identical results). Every other reduction goes to the original kernel.
 */
export function sumLeadingConfig(tf: TfModule, original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = requireInput(inputs, 'x', NAME);
    const axisAttr = attrs?.['axis'];
    const axes = typeof axisAttr === 'number' || Array.isArray(axisAttr) ? tf.util.parseAxisParam(axisAttr as number | number[], x.shape) : [];
    const sorted = [...axes].sort((a, b) => a - b);
    const leading = sorted.length > 0 && sorted.length < x.shape.length && sorted.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return original.kernelFunc(args);
    const keepDims = attrs?.['keepDims'] === true;
    const kept = x.shape.slice(sorted.length);
    const outShape = keepDims ? [...sorted.map(() => 1), ...kept] : kept;
    const heap = asWasmHeap(backend, NAME);
    const out = heap.makeOutput(outShape, 'float32');
    const src = floatView(heap, x, NAME);
    const dst = floatView(heap, out, NAME);
    const width = dst.length;
    const kernels = simdKernelsFor(backend);
    if (kernels !== undefined && width % 4 === 0 && src.length > 0) {
      kernels.sumRows(src.byteOffset, dst.byteOffset, src.length / width, width);
      return out;
    }
    const acc = new Float64Array(width);
    // Four rows per pass: a quarter of the accumulator loads and stores, which bound the simple loop.
    const rows = src.length / width;
    const rows4 = rows - (rows % 4);
    for (let r = 0; r < rows4; r += 4) {
      const b = r * width;
      for (let c = 0; c < width; c++) {
        acc[c] = (acc[c] as number) + (src[b + c] as number) + (src[b + width + c] as number) + (src[b + 2 * width + c] as number) + (src[b + 3 * width + c] as number);
      }
    }
    for (let r = rows4; r < rows; r++) {
      for (let c = 0; c < width; c++) acc[c] = (acc[c] as number) + (src[r * width + c] as number);
    }
    dst.set(acc);
    return out;
  };
  return { ...original, kernelFunc };
}
