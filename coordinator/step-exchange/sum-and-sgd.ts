import type { NamedTensor } from '../../shared/common/named-tensor.js';

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
 * One step's arithmetic, in one pass over each parameter: the gradient of the mean loss over the global batch, then
 * an SGD step with PyTorch's semantics (dampening 0, no Nesterov).
 *
 * Each shard holds a gradient of a SUM of per-sample losses; they are added in the order given (callers keep plan
 * order, so a rerun adds in the same order) in float64, divided once by `totalSamples` and rounded to float32: every
 * shard weighs by its sample count, and any split of the batch differs from another by the final rounding only.
 * Then g' = g + wd*p; v = mu*v + g' (v = g' on the first step); p = p - lr*v.
 *
 * Returns new arrays; the inputs are not modified, so a failed step loses nothing.
 * @throws RangeError when there are no shards, the count is not positive, or a shard disagrees with the parameters
 *   in count, names or lengths.
 */
export function sumAndSgdStep(
  params: readonly NamedTensor[],
  shards: readonly (readonly NamedTensor[])[],
  totalSamples: number,
  state: SgdState,
  options: SgdOptions,
): { readonly params: NamedTensor[]; readonly state: SgdState } {
  checkShards(params, shards, totalSamples);
  const { learningRate: lr, momentum: mu, weightDecay: wd } = options;
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const grads = shards.map((s) => s[i]!.data);
    const out = new Float32Array(p.data.length);
    if (mu === 0) {
      plainStep(out, p.data, grads, totalSamples, lr, wd);
    } else {
      const velocity = new Float32Array(p.data.length);
      momentumStep(out, velocity, p.data, grads, totalSamples, state[i], lr, mu, wd);
      nextState.push(velocity);
    }
    return { name: p.name, shape: p.shape, data: out };
  });
  return { params: next, state: nextState };
}

function checkShards(params: readonly NamedTensor[], shards: readonly (readonly NamedTensor[])[], totalSamples: number): void {
  if (!(totalSamples > 0)) throw new RangeError(`cannot average over ${totalSamples} samples`);
  if (shards.length === 0) throw new RangeError('cannot average zero shards');
  for (const shard of shards) {
    if (shard.length !== params.length) throw new RangeError(`shard has ${shard.length} tensors, the model has ${params.length} parameters`);
    shard.forEach((t, i) => {
      const p = params[i]!;
      if (t.name !== p.name || t.data.length !== p.data.length) {
        throw new RangeError(`shard tensor '${t.name}' does not match parameter '${p.name}'`);
      }
    });
  }
}

/**
 * The mean gradient at k: a float64 sum in shard order, divided once, rounded to float32 (as a Float32Array holding
 * the mean would round it).
 */
function meanAt(grads: readonly Float32Array[], k: number, totalSamples: number): number {
  let sum = grads[0]![k]!;
  for (let s = 1; s < grads.length; s++) sum += grads[s]![k]!;
  return Math.fround(sum / totalSamples);
}

// The hot loops on their own, so the engine optimises them for typed arrays alone.
function plainStep(out: Float32Array, w: Float32Array, grads: readonly Float32Array[], n: number, lr: number, wd: number): void {
  for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * (meanAt(grads, k, n) + wd * w[k]!);
}

function momentumStep(out: Float32Array, v: Float32Array, w: Float32Array, grads: readonly Float32Array[], n: number,
  prev: Float32Array | undefined, lr: number, mu: number, wd: number): void {
  for (let k = 0; k < out.length; k++) {
    const d = meanAt(grads, k, n) + wd * w[k]!;
    const step = prev ? mu * prev[k]! + d : d;
    v[k] = step;
    out[k] = w[k]! - lr * step;
  }
}
