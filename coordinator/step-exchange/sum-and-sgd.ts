import type { NamedTensor } from '../../shared/common/named-tensor.js';
import { meanOfSums, sgdStep, type SgdOptions, type SgdState } from '../../shared/exchange/sgd-step.js';

export type { SgdOptions, SgdState } from '../../shared/exchange/sgd-step.js';

/**
 * One step's arithmetic: the gradient of the mean loss over the global batch, then an SGD step with PyTorch's
 * semantics (dampening 0, no Nesterov).
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
  return sgdStep(params, meanGradients(params, shards, totalSamples), state, options);
}

/** The first half of sumAndSgdStep on its own: the mean gradient of every parameter. @throws as sumAndSgdStep. */
export function meanGradients(params: readonly NamedTensor[], shards: readonly (readonly NamedTensor[])[], totalSamples: number): Float32Array[] {
  checkShards(params, shards, totalSamples);
  return params.map((_, i) => meanOfSums(shards.map((s) => s[i]!.data), totalSamples));
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
