import type { NamedTensor } from '../common/named-tensor.js';
import type { ParamSpec } from '../model/model-spec.js';
import type { FactoredLayer } from './factored-layers.js';
import { meanOfSums } from './sgd-step.js';

/** One shard's contribution in the factored exchange: dense gradient sums and the factored layers' factors. */
export interface FactoredShard {
  /** Gradient sums of the dense parameters, in their order (denseParams). */
  readonly grads: readonly NamedTensor[];
  /** x then dy per factored layer (factorSpecs), rows in the shard's sample order. */
  readonly factors: readonly NamedTensor[];
}

/** What every replica needs to take the step: mean gradients of the dense parameters, the whole batch's factors. */
export interface ReducedStep {
  readonly meanGrads: readonly NamedTensor[];
  readonly factors: readonly NamedTensor[];
}

/**
 * Reduces shards given in batch (plan) order: dense gradients summed in float64 in that order and divided once by
 * `totalSamples` (as central SGD does), factors concatenated row-wise in that order, so the factored product covers
 * the global batch in batch order whatever the split. Shapes are the caller's to have checked (readShard).
 * @throws RangeError on no shards or a non-positive sample count.
 */
export function reduceFactoredShards(shards: readonly FactoredShard[], dense: readonly ParamSpec[], layers: readonly FactoredLayer[],
  totalSamples: number): ReducedStep {
  if (shards.length === 0) throw new RangeError('cannot reduce zero shards');
  if (!(totalSamples > 0)) throw new RangeError(`cannot average over ${totalSamples} samples`);
  const meanGrads = dense.map((p, i) => ({ name: p.name, shape: [...p.shape], data: meanOfSums(shards.map((s) => s.grads[i]!.data), totalSamples) }));
  return { meanGrads, factors: joinFactors(shards.map((s) => s.factors), layers) };
}

/** Parts' factors (x then dy per layer, each part's rows in sample order) joined row-wise into one set of factors. */
export function joinFactors(parts: readonly (readonly NamedTensor[])[], layers: readonly FactoredLayer[]): NamedTensor[] {
  return layers.flatMap((l, i) => [concatRows(l.x, parts.map((p) => p[2 * i]!), l.in), concatRows(l.dy, parts.map((p) => p[2 * i + 1]!), l.out)]);
}

/** Row-wise concatenation of [rows_i, width] tensors into one [sum rows_i, width] tensor. */
export function concatRows(name: string, parts: readonly NamedTensor[], width: number): NamedTensor {
  const rows = parts.reduce((n, p) => n + p.data.length / width, 0);
  if (parts.length === 1 && parts[0]!.data.length === rows * width) return { name, shape: [rows, width], data: parts[0]!.data };
  const data = new Float32Array(rows * width);
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { name, shape: [rows, width], data };
}
