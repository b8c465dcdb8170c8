import type { KernelConfig, KernelFunc, NamedAttrMap } from '@tensorflow/tfjs';
import type { TfModule } from '../tf-module.js';
import { convGeometry } from './conv-geometry.js';
import { im2colRows } from './im2col.js';
import { WasmKernelCalls, requireInput } from './kernel-calls.js';
import { asWasmHeap } from './wasm-heap.js';

const NAME = 'Conv2DBackpropFilter';

/**
 * Conv2DBackpropFilter for wasm, which tfjs-backend-wasm 4.22 lacks entirely (the op fails there).
 * dW[kh,kw,ci,co] = sum over n,y,x of xpad[n,y+kh,x+kw,ci] * dy[n,y,x,co] = (P . dy2d) with P the im2col rows,
 * so the whole gradient is one untransposed XNNPACK matmul. NHWC, stride 1, dilation 1, any padding and channels.
 */
export function conv2dBackpropFilterConfig(tf: TfModule): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = requireInput(inputs, 'x', NAME);
    const dy = requireInput(inputs, 'dy', NAME);
    const filterShape = readFilterShape(attrs);
    const g = convGeometry(tf, NAME, x.shape, filterShape, attrs ?? {});
    const calls = new WasmKernelCalls(tf, backend);
    const patches = im2colRows(asWasmHeap(backend, NAME), x, g);
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
