import type { NamedTensor } from '../shared/common/named-tensor.js';

export interface SgdOptions {
  readonly learningRate: number;
  /** 0 for plain SGD (the course's recipe). */
  readonly momentum: number;
  /** L2 penalty added to the gradient, as PyTorch's SGD `weight_decay`. */
  readonly weightDecay: number;
}

/** Momentum buffers, one per parameter, in parameter order; empty until the first step with momentum. */
export type SgdState = readonly Float32Array[];

/**
 * One SGD step with PyTorch's semantics (dampening 0, no Nesterov): g' = g + wd*p; v = mu*v + g' (v = g' on the
 * first step); p = p - lr*v. Returns new arrays; the inputs are not modified, so a failed step loses nothing.
 * @throws RangeError when gradients and parameters disagree in count, names or lengths.
 */
export function sgdStep(
  params: readonly NamedTensor[],
  grads: readonly NamedTensor[],
  state: SgdState,
  options: SgdOptions,
): { readonly params: NamedTensor[]; readonly state: SgdState } {
  if (grads.length !== params.length) throw new RangeError(`${grads.length} gradients for ${params.length} parameters`);
  const { learningRate: lr, momentum: mu, weightDecay: wd } = options;
  params.forEach((p, i) => {
    const g = grads[i]!;
    if (g.name !== p.name || g.data.length !== p.data.length) {
      throw new RangeError(`gradient '${g.name}' does not match parameter '${p.name}'`);
    }
  });
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const out = new Float32Array(p.data.length);
    if (mu === 0) {
      plainStep(out, p.data, grads[i]!.data, lr, wd);
    } else {
      const velocity = new Float32Array(p.data.length);
      momentumStep(out, velocity, p.data, grads[i]!.data, state[i], lr, mu, wd);
      nextState.push(velocity);
    }
    return { name: p.name, shape: p.shape, data: out };
  });
  return { params: next, state: nextState };
}

function plainStep(out: Float32Array, w: Float32Array, g: Float32Array, lr: number, wd: number): void {
  for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * (g[k]! + wd * w[k]!);
}

function momentumStep(out: Float32Array, v: Float32Array, w: Float32Array, g: Float32Array, prev: Float32Array | undefined,
  lr: number, mu: number, wd: number): void {
  for (let k = 0; k < out.length; k++) {
    const d = g[k]! + wd * w[k]!;
    const step = prev ? mu * prev[k]! + d : d;
    v[k] = step;
    out[k] = w[k]! - lr * step;
  }
}
