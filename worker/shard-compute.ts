import { gatherBatch, type Split } from '../shared/dataset/omniglot.js';
import { augmentBatch } from '../shared/dataset/augment.js';
import type { HeadStat } from '../shared/model/heads.js';
import type { Batch } from '../shared/model/batch.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';
import type { EvalResult, GradientResult, ModelRunner } from '../shared/model/model-runner.js';
import type { EvalRequest, StepAssignment } from '../shared/protocol/messages.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import type { PhaseClock } from '../shared/common/phase-times.js';
import { joinFactors } from '../shared/exchange/factor-reduction.js';
import type { FactoredLayer } from '../shared/exchange/factored-layers.js';

/**
 * A worker's share of a step or an evaluation, computed in micro-batches of `microBatch` samples and summed:
 * gradients and stats are sums, so chunking changes nothing but rounding and bounds the memory a shard needs.
 */
export function shardGradients(runner: ModelRunner, split: Split, task: StepAssignment, microBatch: number,
  factored: readonly FactoredLayer[] = [], clock?: PhaseClock): GradientResult {
  let sum: NamedTensor[] | undefined;
  const factorParts: NamedTensor[][] = [];
  let heads: HeadStat[] = [];
  clock?.restart();
  for (const chunk of chunks(split, task.sampleIndices, microBatch)) {
    const input = task.augment ? augmentBatch(chunk.batch, chunk.indices, task.augmentSeed, task.epoch) : chunk.batch;
    clock?.lap('gather');
    const result = runner.gradients(input, task.lossWeights, factored);
    clock?.lap('compute');
    clock?.add('compute', -(result.readBackMs ?? 0));
    clock?.add('readBack', result.readBackMs ?? 0);
    sum = sum ? addInto(sum, result.grads) : result.grads;
    if (result.factors) factorParts.push(result.factors);
    heads = sumHeadStats([heads, result.heads]);
  }
  // An empty shard still answers with zero gradients (and factors) of the model's shapes.
  if (!sum) return runner.gradients(gatherBatch(split, []), task.lossWeights, factored);
  const factors = factored.length > 0 ? joinFactors(factorParts, factored) : undefined;
  clock?.lap('readBack');
  return { grads: sum, heads, ...(factors ? { factors } : {}) };
}

export function shardEvaluation(runner: ModelRunner, split: Split, task: EvalRequest, microBatch: number): EvalResult {
  const parts: EvalResult[] = [];
  for (const chunk of chunks(split, task.sampleIndices, microBatch)) parts.push(runner.evaluate(chunk.batch));
  if (parts.length === 0) parts.push(runner.evaluate(gatherBatch(split, [])));
  const agreement = sumAgreement(parts.map((p) => p.agreement));
  return { heads: sumHeadStats(parts.map((p) => p.heads)), ...(agreement ? { agreement } : {}) };
}

function* chunks(split: Split, indices: Uint32Array, size: number): Generator<{ batch: Batch; indices: Uint32Array }> {
  for (let start = 0; start < indices.length; start += size) {
    const part = indices.subarray(start, start + size);
    yield { batch: gatherBatch(split, part), indices: part };
  }
}

function addInto(sum: NamedTensor[], more: readonly NamedTensor[]): NamedTensor[] {
  sum.forEach((t, i) => {
    const src = more[i]!.data;
    const dst = t.data;
    for (let k = 0; k < dst.length; k++) dst[k]! += src[k]!;
  });
  return sum;
}
