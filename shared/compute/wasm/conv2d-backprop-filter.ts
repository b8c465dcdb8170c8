import type { KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';
import { convGeometry } from './conv-geometry.js';
import { gemmFits, rowMajor, simdGemm, transposed } from './gemm.js';
import { im2colPixels, im2colRows } from './im2col.js';
import { WasmKernelCalls, requireInput } from './kernel-calls.js';
import { simdKernelsFor } from './simd/simd-kernels.js';
import { asWasmHeap } from './wasm-heap.js';

const NAME = 'Conv2DBackpropFilter';

/**
 * Conv2DBackpropFilter for wasm, which tfjs-backend-wasm 4.22 lacks entirely (the op fails there).
 * dW[kh,kw,ci,co] = sum over n,y,x of xpad[n,y+kh,x+kw,ci] * dy[n,y,x,co] = (P . dy2d) with P the im2col rows,
 * so the whole gradient is one matmul: the SIMD gemm where it fits (it reads dy in place; XNNPACK would repack all
 * of dy as its right operand), else an untransposed XNNPACK matmul. NHWC, stride 1, dilation 1, any padding and channels.
 */
export function conv2dBackpropFilterConfig(tf: TfModule): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = requireInput(inputs, 'x', NAME);
    const dy = requireInput(inputs, 'dy', NAME);
    const filterShape = readFilterShape(attrs);
    const g = convGeometry(tf, NAME, x.shape, filterShape, attrs ?? {});
    const heap = asWasmHeap(backend, NAME);
    const depth = g.filterHeight * g.filterWidth * g.inChannels;
    const columns = g.batch * g.outHeight * g.outWidth;
    const kernels = simdKernelsFor(backend);
    if (kernels !== undefined && gemmFits(depth, g.outChannels, columns) && x.dtype === 'float32' && dy.dtype === 'float32') {
      // dW2d (depth x outChannels) = P^T . dy2d with P one row per pixel (columns x depth), both read in place.
      const pixels = im2colPixels(heap, kernels, x, g);
      const dw = heap.makeOutput([...filterShape], 'float32');
      simdGemm(kernels, heap, NAME, { m: depth, n: g.outChannels, k: columns }, transposed(pixels, depth), rowMajor(dy, g.outChannels), rowMajor(dw, g.outChannels));
      heap.disposeData(pixels.dataId);
      return dw;
    }
    const patches = im2colRows(heap, x, g);
    const calls = new WasmKernelCalls(tf, backend);
    const dy2d = calls.reshape(dy, [g.batch * g.outHeight * g.outWidth, g.outChannels]);
    const dw2d = calls.call('BatchMatMul', { a: patches, b: dy2d }, { transposeA: false, transposeB: false });
    const dw = calls.reshape(dw2d, filterShape);
    calls.release(patches, dy2d, dw2d);
    return dw;
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc };
}

function readFilterShape(attrs: NamedAttrMap | undefined): [number, number, number, number] {
  const shape = attrs?.['filterShape'];
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => typeof d === 'number')) {
    throw new Error(`${NAME}: filterShape must be [kh, kw, inChannels, outChannels], got ${JSON.stringify(shape)}`);
  }
  return shape as [number, number, number, number];
}
