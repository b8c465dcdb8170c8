import type { KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';
import { requireInput } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { asWasmHeap, floatView } from './wasm-heap.js';

const NAME = 'MaxPoolGrad';

type PoolPad = 'same' | 'valid' | number;

function readPool(attrs: NamedAttrMap | undefined): { filterSize: number | [number, number]; strides: number | [number, number]; pad: PoolPad } {
  const { filterSize, strides, pad } = attrs ?? {};
  const sizeOrPair = (v: unknown): v is number | [number, number] =>
    typeof v === 'number' || (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number'));
  if (!sizeOrPair(filterSize) || !sizeOrPair(strides)) throw new Error(`${NAME}: bad filterSize/strides`);
  if (pad !== 'same' && pad !== 'valid' && typeof pad !== 'number') throw new Error(`${NAME}: unsupported pad ${JSON.stringify(pad)}`);
  return { filterSize, strides, pad: pad as PoolPad };
}

/**
 * MaxPoolGrad for wasm (NHWC, any window, stride and padding, dilation 1). Routes each output's gradient to the
 * FIRST maximum of its window in row-major order, as the cpu backend and PyTorch do. The wasm kernel of 4.22
 * breaks ties differently, which matters here: blank Omniglot background gives windows of equal values, so the
 * conv gradients differed from cpu's by ~50%. It was also ~5x slower than this loop. The model's case (2x2 windows
 * tiling the input, channels a multiple of 4) runs as a SIMD kernel, ~10x faster again than the JS loop.
 */
export function maxPoolGradConfig(tf: TfModule): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const dy = requireInput(inputs, 'dy', NAME);
    const input = requireInput(inputs, 'input', NAME);
    const { filterSize, strides, pad } = readPool(attrs);
    const dimRoundingMode = attrs?.['dimRoundingMode'];
    const rounding = dimRoundingMode === 'floor' || dimRoundingMode === 'round' || dimRoundingMode === 'ceil' ? (dimRoundingMode as 'floor' | 'round' | 'ceil') : undefined;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, rounding);
    const heap = asWasmHeap(backend, NAME);
    const dx = heap.makeOutput([...input.shape], 'float32');
    const x = floatView(heap, input, NAME);
    const g = floatView(heap, dy, NAME);
    const out = floatView(heap, dx, NAME);
    const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
    const { filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    const kernels = simdKernelsFor(backend);
    const tiles = filterHeight === 2 && filterWidth === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0;
    if (tiles && kernels !== undefined && channels % 4 === 0 && inHeight === 2 * outHeight && inWidth === 2 * outWidth) {
      kernels.maxPool2x2Grad(x.byteOffset, g.byteOffset, out.byteOffset, batchSize * outHeight, outWidth, channels);
      return dx;
    }
    if (tiles) {
      if (inHeight !== 2 * outHeight || inWidth !== 2 * outWidth) out.fill(0);
      pool2x2Grad(x, g, out, batchSize, inHeight, inWidth, channels, outHeight, outWidth);
      return dx;
    }
    out.fill(0);
    let o = 0;
    for (let n = 0; n < batchSize; n++) {
      for (let oy = 0; oy < outHeight; oy++) {
        const y0 = oy * strideHeight - top;
        const ya = Math.max(0, y0);
        const yb = Math.min(inHeight, y0 + filterHeight);
        for (let ox = 0; ox < outWidth; ox++) {
          const x0 = ox * strideWidth - left;
          const xa = Math.max(0, x0);
          const xb = Math.min(inWidth, x0 + filterWidth);
          for (let c = 0; c < channels; c++, o++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let y = ya; y < yb; y++) {
              let p = ((n * inHeight + y) * inWidth + xa) * channels + c;
              for (let xx = xa; xx < xb; xx++, p += channels) {
                const v = x[p] as number;
                if (v > best) {
                  best = v;
                  at = p;
                }
              }
            }
            if (at >= 0) out[at] = (out[at] as number) + (g[o] as number);
          }
        }
      }
    }
    return dx;
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc };
}

/** The common 2x2 / stride 2 case: windows tile the input, so every covered dx element is written exactly once. */
function pool2x2Grad(
  x: Float32Array,
  g: Float32Array,
  out: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
): void {
  const rowPitch = inWidth * channels;
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const p00 = ((n * inHeight + 2 * oy) * inWidth + 2 * ox) * channels;
        const p01 = p00 + channels;
        const p10 = p00 + rowPitch;
        const p11 = p10 + channels;
        for (let c = 0; c < channels; c++, o++) {
          const v00 = x[p00 + c] as number;
          const v01 = x[p01 + c] as number;
          const v10 = x[p10 + c] as number;
          const v11 = x[p11 + c] as number;
          // First strict maximum in row-major order; -1 (all NaN) routes nothing, as on cpu.
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          if (v00 > best) { best = v00; at = 0; }
          if (v01 > best) { best = v01; at = 1; }
          if (v10 > best) { best = v10; at = 2; }
          if (v11 > best) at = 3;
          const d = g[o] as number;
          out[p00 + c] = at === 0 ? d : 0;
          out[p01 + c] = at === 1 ? d : 0;
          out[p10 + c] = at === 2 ? d : 0;
          out[p11 + c] = at === 3 ? d : 0;
        }
      }
    }
  }
}
