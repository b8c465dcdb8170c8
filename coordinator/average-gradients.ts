import type { NamedTensor } from '../shared/tensor/named-tensor.js';

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
  // float64 accumulators: the sum then differs from any other split of the batch by rounding of the final cast only.
  const sums = first.map((t) => ({ name: t.name, shape: t.shape, data: new Float64Array(t.data.length) }));
  for (const shard of shards) {
    if (shard.length !== sums.length) throw new RangeError(`shard has ${shard.length} tensors, expected ${sums.length}`);
    shard.forEach((t, i) => {
      const sum = sums[i]!;
      if (t.name !== sum.name || t.data.length !== sum.data.length) {
        throw new RangeError(`shard tensor '${t.name}' does not match '${sum.name}'`);
      }
      const acc = sum.data;
      const src = t.data;
      for (let k = 0; k < acc.length; k++) acc[k]! += src[k]!;
    });
  }
  return sums.map((sum) => {
    const mean = new Float32Array(sum.data.length);
    for (let k = 0; k < mean.length; k++) mean[k] = sum.data[k]! / totalSamples;
    return { name: sum.name, shape: sum.shape, data: mean };
  });
}
