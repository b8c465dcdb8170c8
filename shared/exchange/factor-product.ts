import { simdKernelsOn, type SimdKernels } from '../compute/wasm/simd/simd-kernels.js';

const PAGE = 65536;

/**
 * x^T . dy for a factored dense layer: x [samples, in] (the layer's inputs), dy [samples, out] (the loss gradient at
 * its pre-activation), giving the kernel's gradient sum [in, out]. Runs the project's SIMD gemm on a memory of its
 * own, not on a tfjs backend: the same wasm code on the coordinator and on every replica, whatever backend each
 * computes with, so they get the same bits (wasm SIMD has no fused multiply-add and the gemm sums in sample order).
 */
export class FactorProduct {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly kernels: SimdKernels = simdKernelsOn(this.memory);

  /**
   * The product, as a view into this object's memory: valid until the next call.
   * @throws RangeError when the lengths do not match the dimensions, or `out` is not a multiple of 4.
   */
  product(x: Float32Array, dy: Float32Array, dims: { readonly samples: number; readonly in: number; readonly out: number }): Float32Array {
    const { samples, in: inDim, out: outDim } = dims;
    if (x.length !== samples * inDim || dy.length !== samples * outDim) {
      throw new RangeError(`factors of ${x.length} and ${dy.length} values do not match ${samples} samples x (${inDim}, ${outDim})`);
    }
    if (outDim % 4 !== 0 || inDim < 1) throw new RangeError(`a factored layer needs out % 4 == 0, got ${inDim} x ${outDim}`);
    const xAt = 0;
    const dyAt = xAt + x.byteLength;
    const outAt = dyAt + dy.byteLength;
    const bytes = outAt + inDim * outDim * 4;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    const heap = this.memory.buffer;
    new Float32Array(heap, xAt, x.length).set(x);
    new Float32Array(heap, dyAt, dy.length).set(dy);
    if (samples === 0) return new Float32Array(heap, outAt, inDim * outDim).fill(0);
    // A(i, b) = x[b][i]: rows 4 bytes apart, columns one sample row apart; the gemm broadcasts A's elements.
    this.kernels.gemm(inDim, outDim, samples, xAt, 4, 4 * inDim, dyAt, 4 * outDim, outAt, 4 * outDim, 0);
    return new Float32Array(heap, outAt, inDim * outDim);
  }
}
