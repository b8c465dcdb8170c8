import type { TensorInfo } from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv-geometry.js';
import type { SimdKernels } from './simd/simd-kernels.js';
import { floatView, heapOffset, type WasmHeap } from './wasm-heap.js';

/**
 * Patches of an NHWC input as rows: P[(kh, kw, ci), (n, y, x)] = xpad[n, y+kh, x+kw, ci], shape
 * [kh*kw*inChannels, n*outHeight*outWidth] (stride 1, dilation 1). Row order matches a [kh, kw, ci, co] filter
 * flattened to 2-D, so a conv is W2d^T . P and its filter gradient P . dy2d: untransposed XNNPACK matmuls.
 * Written in one pass straight into wasm memory; zero padding is written explicitly (wasm memory is reused).
 */
export function im2colRows(heap: WasmHeap, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const [, height = 0, width = 0] = x.shape;
  const { batch, outHeight, outWidth, inChannels: channels, pad } = g;
  const columns = batch * outHeight * outWidth;
  const out = heap.makeOutput([g.filterHeight * g.filterWidth * channels, columns], 'float32');
  const src = floatView(heap, x, 'im2col');
  const dst = floatView(heap, out, 'im2col');
  let row = 0;
  for (let i = 0; i < g.filterHeight; i++) {
    for (let j = 0; j < g.filterWidth; j++) {
      const dx = j - pad.left;
      // Output columns x whose source column x + dx lies inside the image.
      const x0 = Math.min(outWidth, Math.max(0, -dx));
      const x1 = Math.max(x0, Math.min(outWidth, width - dx));
      for (let c = 0; c < channels; c++, row++) {
        let o = row * columns;
        for (let n = 0; n < batch; n++) {
          for (let y = 0; y < outHeight; y++, o += outWidth) {
            const sy = y + i - pad.top;
            if (sy < 0 || sy >= height) {
              dst.fill(0, o, o + outWidth);
              continue;
            }
            if (x0 > 0) dst.fill(0, o, o + x0);
            if (x1 < outWidth) dst.fill(0, o + x1, o + outWidth);
            let s = ((n * height + sy) * width + x0 + dx) * channels + c;
            for (let xo = x0; xo < x1; xo++, s += channels) dst[o + xo] = src[s] as number;
          }
        }
      }
    }
  }
  return out;
}

/**
 * The same patches one row per output pixel, [n*outHeight*outWidth, kh*kw*inChannels], written by the SIMD
 * module. Both conv directions then read it along contiguous memory: the forward as a row-major left operand,
 * the filter gradient as a transposed one whose k steps walk down the rows.
 */
export function im2colPixels(heap: WasmHeap, kernels: SimdKernels, x: TensorInfo, g: ConvGeometry): TensorInfo {
  const [, height = 0, width = 0] = x.shape;
  const depth = g.filterHeight * g.filterWidth * g.inChannels;
  const out = heap.makeOutput([g.batch * g.outHeight * g.outWidth, depth], 'float32');
  kernels.im2colPixels(
    heapOffset(heap, x, 'im2col'), heapOffset(heap, out, 'im2col'),
    g.batch, height, width, g.inChannels, g.filterHeight, g.filterWidth, g.pad.top, g.pad.left, g.outHeight, g.outWidth,
  );
  return out;
}
