import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ActiveBackend } from '../shared/compute/backend.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { augmentBatch } from '../shared/dataset/augment.js';
import { gatherBatch, type OmniglotData, type Split as DataSplit } from '../shared/dataset/omniglot.js';
import type { Batch } from '../shared/model/batch.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';
import type { HeadStat } from '../shared/model/heads.js';
import { ModelRunner, type EvalResult } from '../shared/model/model-runner.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import type { Agreement, EvalRequest, StepAssignment } from '../shared/protocol/messages.js';
import type { ShardCompute } from './shard-compute.js';

/** The production compute: the model on the worker's copy of the dataset, in micro-batches. */
export class ModelCompute implements ShardCompute {
  private readonly runner: ModelRunner;
  readonly backendName: string;
  readonly datasetFingerprint: string;

  constructor(private readonly data: OmniglotData, backend: ActiveBackend, modelKind: ModelKind, private readonly microBatch = 64) {
    this.runner = ModelRunner.create(modelKind, backend.tf, { characterAlphabet: data.characterAlphabet });
    this.backendName = backend.name;
    this.datasetFingerprint = data.fingerprint;
  }

  setParams(tensors: readonly NamedTensor[]): void {
    this.runner.setParams(tensors);
  }

  async gradients(m: StepAssignment): Promise<{ grads: NamedTensor[]; heads: HeadStat[] }> {
    let sum: NamedTensor[] | undefined;
    let heads: HeadStat[] = [];
    for (const chunk of this.chunks(this.data.train, m.sampleIndices)) {
      const input = m.augment ? augmentBatch(chunk.batch, chunk.indices, m.augmentSeed, m.epoch) : chunk.batch;
      const result = this.runner.gradients(input, m.lossWeights);
      sum = sum ? addInto(sum, result.grads) : result.grads;
      heads = sumHeadStats([heads, result.heads]);
      await yieldToEventLoop();
    }
    return { grads: sum ?? [], heads };
  }

  async evaluate(m: EvalRequest): Promise<{ heads: HeadStat[]; agreement?: Agreement }> {
    const split = m.split === 'test' ? this.data.test : this.data.train;
    const parts: EvalResult[] = [];
    for (const chunk of this.chunks(split, m.sampleIndices)) {
      parts.push(this.runner.evaluate(chunk.batch));
      await yieldToEventLoop();
    }
    const agreement = sumAgreement(parts.map((p) => p.agreement));
    return { heads: sumHeadStats(parts.map((p) => p.heads)), ...(agreement ? { agreement } : {}) };
  }

  dispose(): void {
    this.runner.dispose();
  }

  /** Micro-batches of a shard; gradients and stats are sums, so chunking changes nothing but rounding. */
  private *chunks(split: DataSplit, indices: Uint32Array): Generator<{ batch: Batch; indices: Uint32Array }> {
    for (let start = 0; start < indices.length; start += this.microBatch) {
      const part = indices.subarray(start, start + this.microBatch);
      yield { batch: gatherBatch(split, part), indices: part };
    }
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
