import type { NamedTensor } from '../common/named-tensor.js';

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
 * The mean of shard gradient sums at every element: a float64 sum in shard order, divided once by `totalSamples`,
 * rounded to float32. One pass per shard over a float64 accumulator: the same value as summing element by element.
 */
export function meanOfSums(sums: readonly Float32Array[], totalSamples: number, out = new Float32Array(sums[0]?.length ?? 0)): Float32Array {
  const first = sums[0];
  if (first === undefined) throw new RangeError('cannot average zero shards');
  if (sums.length === 1) {
    divideInto(out, first, totalSamples);
    return out;
  }
  const acc = Float64Array.from(first);
  for (let s = 1; s < sums.length; s++) accumulate(acc, sums[s]!);
  divideInto(out, acc, totalSamples);
  return out;
}

function accumulate(acc: Float64Array, more: Float32Array): void {
  for (let k = 0; k < acc.length; k++) acc[k]! += more[k]!;
}

function divideInto(out: Float32Array, sum: Float32Array | Float64Array, n: number): void {
  // A Float32Array store rounds, as Math.fround would.
  for (let k = 0; k < out.length; k++) out[k] = sum[k]! / n;
}

/**
 * One SGD step of one parameter from its mean gradient, PyTorch's semantics (dampening 0, no Nesterov):
 * g' = g + wd*w; v = mu*v + g' (v = g' on the first step); w = w - lr*v. Arithmetic in float64, stored as float32.
 * The mean gradient is `g`, or (`divisor` given) g[k] / divisor rounded to float32, computed in the same pass.
 * Writes into `into` when given (it may be `w` itself: the update is elementwise), else into new arrays.
 */
export function sgdStepOf(w: Float32Array, g: Float32Array, prev: Float32Array | undefined, options: SgdOptions,
  into?: { readonly weights: Float32Array; readonly velocity?: Float32Array | undefined }, divisor = 1): { weights: Float32Array; velocity: Float32Array | undefined } {
  const { learningRate: lr, momentum: mu, weightDecay: wd } = options;
  const out = into?.weights ?? new Float32Array(w.length);
  if (mu === 0) {
    if (divisor === 1) plainStep(out, w, g, lr, wd);
    else plainStepFromSum(out, w, g, divisor, lr, wd);
    return { weights: out, velocity: undefined };
  }
  const velocity = into?.velocity ?? new Float32Array(w.length);
  momentumStep(out, velocity, w, g, divisor, prev, lr, mu, wd);
  return { weights: out, velocity };
}

/** SGD over every parameter from the mean gradients (same order); the state's buffers are parameter-indexed. */
export function sgdStep(params: readonly NamedTensor[], meanGrads: readonly Float32Array[], state: SgdState,
  options: SgdOptions): { readonly params: NamedTensor[]; readonly state: SgdState } {
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const { weights, velocity } = sgdStepOf(p.data, meanGrads[i]!, state[i], options);
    if (velocity) nextState.push(velocity);
    return { name: p.name, shape: p.shape, data: weights };
  });
  return { params: next, state: nextState };
}

// The hot loops on their own, so the engine optimises them for typed arrays alone.
function plainStep(out: Float32Array, w: Float32Array, g: Float32Array, lr: number, wd: number): void {
  if (wd === 0) {
    for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * g[k]!;
    return;
  }
  for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * (g[k]! + wd * w[k]!);
}

/** plainStep with g[k] = fround(sum[k] / n): the mean of a gradient sum, rounded as a Float32Array would hold it. */
function plainStepFromSum(out: Float32Array, w: Float32Array, sum: Float32Array, n: number, lr: number, wd: number): void {
  if (wd === 0) {
    for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * Math.fround(sum[k]! / n);
    return;
  }
  for (let k = 0; k < out.length; k++) out[k] = w[k]! - lr * (Math.fround(sum[k]! / n) + wd * w[k]!);
}

function momentumStep(out: Float32Array, v: Float32Array, w: Float32Array, g: Float32Array, n: number, prev: Float32Array | undefined,
  lr: number, mu: number, wd: number): void {
  for (let k = 0; k < out.length; k++) {
    const d = Math.fround(g[k]! / n) + wd * w[k]!;
    const step = prev ? mu * prev[k]! + d : d;
    v[k] = step;
    out[k] = w[k]! - lr * step;
  }
}
