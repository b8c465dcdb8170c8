import type { DataId, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { requireInput } from './kernel-calls.js';

const NAME = 'Identity';

interface RefCounting {
  incRef(dataId: DataId): void;
}

/**
 * Identity on wasm that shares the input's buffer (one more reference) instead of copying it, as the cpu backend
 * does. The engine clones every tensor it saves for the backward pass, so the copying kernel memcpy'd the conv
 * and max-pool activations and the dense kernel on every step. Safe because tfjs tensors are immutable; wasm
 * kernels that need a private copy call their own identity function, not this registry entry.
 */
export function sharedIdentityConfig(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = requireInput(args.inputs, 'x', NAME);
    const backend = args.backend as Partial<RefCounting>;
    if (x.dtype === 'string' || typeof backend.incRef !== 'function') return original.kernelFunc(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { ...original, kernelFunc };
}
