import type { NamedTensor } from '../shared/tensor/named-tensor.js';

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
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const g = grads[i]!;
    if (g.name !== p.name || g.data.length !== p.data.length) {
      throw new RangeError(`gradient '${g.name}' does not match parameter '${p.name}'`);
    }
    const out = new Float32Array(p.data.length);
    const prev = state[i];
    const velocity = mu !== 0 ? new Float32Array(p.data.length) : undefined;
    for (let k = 0; k < out.length; k++) {
      const w = p.data[k]!;
      let step = g.data[k]! + wd * w;
      if (velocity) {
        step = prev ? mu * prev[k]! + step : step;
        velocity[k] = step;
      }
      out[k] = w - lr * step;
    }
    if (velocity) nextState.push(velocity);
    return { name: p.name, shape: p.shape, data: out };
  });
  return { params: next, state: nextState };
}
