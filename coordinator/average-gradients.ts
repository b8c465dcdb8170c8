import type { NamedTensor } from '../shared/common/named-tensor.js';

/**
 * The gradient of the mean loss over a global batch, from shard gradients that are each a gradient of a SUM of
 * per-sample losses: add them all, divide once by the total sample count. That weights every shard by its sample
 * count, so the result does not depend on how the batch was split. Shards are added in the order given, which
 * callers keep fixed (plan order) so that a rerun adds in the same order.
 * @throws RangeError when shards disagree on names or shapes, or the count is not positive.
 */
export function averageGradients(shards: readonly (readonly NamedTensor[])[], totalSamples: number): NamedTensor[] {
  if (!(totalSamples > 0)) throw new RangeError(`cannot average over ${totalSamples} samples`);
  const first = shards[0];
  if (!first) throw new RangeError('cannot average zero shards');
  for (const shard of shards) {
    if (shard.length !== first.length) throw new RangeError(`shard has ${shard.length} tensors, expected ${first.length}`);
    shard.forEach((t, i) => {
      const ref = first[i]!;
      if (t.name !== ref.name || t.data.length !== ref.data.length) {
        throw new RangeError(`shard tensor '${t.name}' does not match '${ref.name}'`);
      }
    });
  }
  // float64 accumulators: the sum then differs from any other split of the batch by rounding of the final cast only.
  return first.map((ref, i) => {
    const acc = new Float64Array(ref.data.length);
    acc.set(ref.data);
    for (let s = 1; s < shards.length; s++) addInto(acc, shards[s]![i]!.data);
    const mean = new Float32Array(acc.length);
    for (let k = 0; k < mean.length; k++) mean[k] = acc[k]! / totalSamples;
    return { name: ref.name, shape: ref.shape, data: mean };
  });
}

/** The hot loop on its own, so the engine optimises it for typed arrays alone. */
function addInto(acc: Float64Array, src: Float32Array): void {
  for (let k = 0; k < acc.length; k++) acc[k]! += src[k]!;
}
