import type { TfModule } from '../tf-module.js';
import { addConfig } from './add.js';
import { fastBatchMatMulConfig } from './batch-mat-mul.js';
import { conv2dConfig } from './conv2d.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { sharedIdentityConfig } from './shared-identity.js';
import { sumLeadingConfig } from './sum-leading.js';

let installed = false;

/**
 * Installs the wasm kernel fixes into tfjs's global kernel registry: a Conv2DBackpropFilter (missing in
 * tfjs-backend-wasm 4.22), a BatchMatMul and a Conv2D on the project's SIMD gemm (simd/kernels.wat; XNNPACK
 * repacks fresh weights every step), a MaxPoolGrad that breaks ties as the cpu backend does, a Sum that reduces
 * leading axes without a transpose, an Add with SIMD bias and same-shape paths, and an Identity that shares
 * buffers instead of copying them. Call after the wasm
 * backend package is imported (it registers its kernels on import); idempotent.
 */
export function registerWasmKernels(tf: TfModule): void {
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (original === undefined) throw new Error('registerWasmKernels: the wasm backend has no BatchMatMul; import @tensorflow/tfjs-backend-wasm first');
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(fastBatchMatMulConfig(original));
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) tf.registerKernel(conv2dBackpropFilterConfig(tf));
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel(maxPoolGradConfig(tf));
  const sum = tf.getKernel('Sum', 'wasm');
  if (sum !== undefined) {
    tf.unregisterKernel('Sum', 'wasm');
    tf.registerKernel(sumLeadingConfig(tf, sum));
  }
  const conv = tf.getKernel('Conv2D', 'wasm');
  if (conv !== undefined) {
    tf.unregisterKernel('Conv2D', 'wasm');
    tf.registerKernel(conv2dConfig(tf, conv));
  }
  const add = tf.getKernel('Add', 'wasm');
  if (add !== undefined) {
    tf.unregisterKernel('Add', 'wasm');
    tf.registerKernel(addConfig(add));
  }
  const identity = tf.getKernel('Identity', 'wasm');
  if (identity !== undefined) {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(sharedIdentityConfig(identity));
  }
  installed = true;
}
