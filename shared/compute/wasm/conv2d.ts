import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';
import { convGeometry, im2colUnsupported } from './conv-geometry.js';
import { gemmFits, rowMajor, simdGemm } from './gemm.js';
import { im2colPixels } from './im2col.js';
import { requireInput } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { asWasmHeap } from './wasm-heap.js';

const NAME = 'Conv2D';

/**
 * Conv2D on wasm as im2col + the SIMD gemm: out[(n,y,x), co] = sum over (kh,kw,ci) of P[(n,y,x), (kh,kw,ci)] *
 * W[(kh,kw,ci), co], i.e. P . W2d, written straight in NHWC. XNNPACK's convolution with one input channel ran
 * at a few GFLOP/s here. NHWC, stride 1, dilation 1, float32, output channels a multiple of 4; anything else goes
 * to the original kernel.
 */
export function conv2dConfig(tf: TfModule, original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = requireInput(inputs, 'x', NAME);
    const filter = requireInput(inputs, 'filter', NAME);
    const kernels = simdKernelsFor(backend);
    const usable =
      kernels !== undefined && x.dtype === 'float32' && filter.dtype === 'float32' && x.shape.length === 4 && filter.shape.length === 4 &&
      im2colUnsupported(attrs ?? {}) === undefined;
    if (!usable) return original.kernelFunc(args);
    const g = convGeometry(tf, NAME, x.shape, filter.shape, attrs ?? {});
    const depth = g.filterHeight * g.filterWidth * g.inChannels;
    const columns = g.batch * g.outHeight * g.outWidth;
    if (!gemmFits(columns, g.outChannels, depth)) return original.kernelFunc(args);
    const heap = asWasmHeap(backend, NAME);
    const patches = im2colPixels(heap, kernels, x, g);
    const out = heap.makeOutput([g.batch, g.outHeight, g.outWidth, g.outChannels], 'float32');
    simdGemm(kernels, heap, NAME, { m: columns, n: g.outChannels, k: depth }, rowMajor(patches, depth), rowMajor(filter, g.outChannels), rowMajor(out, g.outChannels));
    heap.disposeData(patches.dataId);
    return out;
  };
  return { ...original, kernelFunc };
}
