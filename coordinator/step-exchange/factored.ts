import type { NamedTensor } from '../../shared/common/named-tensor.js';
import { PhaseClock, type PhaseTimes } from '../../shared/common/phase-times.js';
import { FactorProduct } from '../../shared/exchange/factor-product.js';
import { reduceFactoredShards, type FactoredShard } from '../../shared/exchange/factor-reduction.js';
import { denseParams, factoredLayers, factorSpecs, type FactoredLayer } from '../../shared/exchange/factored-layers.js';
import type { SgdOptions, SgdState } from '../../shared/exchange/sgd-step.js';
import { applyStepUpdate, type StepInputs } from '../../shared/exchange/step-update.js';
import { weightsCrc32 } from '../../shared/exchange/weights-crc.js';
import type { ModelDefinition } from '../../shared/model/model-graph.js';
import type { ParamSpec } from '../../shared/model/model-spec.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { Gradients, StepUpdate } from '../../shared/protocol/messages.js';
import { gradientProblem } from '../answer-check.js';
import type { ShardReading, StepContext, StepExchange, WorkerLinks } from './step-exchange.js';

export type { FactoredShard };

/**
 * Replicas take the optimizer step; the coordinator keeps the weights of record (DDP/BytePS with Poseidon's sufficient
 * factors). Workers send dense gradient sums of the small parameters and, for the large hidden dense layers, the
 * factors x and dy of their shard; the coordinator sums the former and concatenates the latter in batch order, and
 * broadcasts that update (a few MB at small batches instead of 8.9 MB of weights). Every replica and the coordinator
 * then run the same applyStepUpdate, so they hold the same bits; the coordinator's own application runs after the
 * next tasks are out, overlapping the workers' compute.
 *
 * Proof: every answer carries the version and CRC-32 of the weights it was computed with; an answer whose proof is
 * not the coordinator's is refused before it reaches the step (its task goes out again) and the worker gets the full
 * weights (and optimizer state) first, as a joining worker does. Joins and resumes start from the full weights too.
 */
export class FactoredExchange implements StepExchange<FactoredShard> {
  readonly design = 'factored';
  private readonly layers: readonly FactoredLayer[];
  private readonly dense: readonly ParamSpec[];
  private readonly product = new FactorProduct();
  private weights: readonly NamedTensor[];
  private state: SgdState;
  private version = 0;
  /** CRC-32 of the weights of record and the version it is of: what answers' proofs are checked against. */
  private crc: { readonly version: number; readonly value: number } | undefined;
  /** The last update, broadcast but not yet applied to the weights of record. */
  private pending: { readonly inputs: StepInputs; readonly timer: NodeJS.Immediate } | undefined;
  private failure: Error | undefined;
  private frame: Uint8Array | undefined;
  /** Time spent applying updates to the weights of record, off the critical path (for the bench). */
  private offPathMs = 0;

  constructor(start: { readonly params: readonly NamedTensor[]; readonly sgdState: SgdState; readonly version?: number },
    model: ModelDefinition, private readonly sgd: Omit<SgdOptions, 'learningRate'>) {
    this.layers = factoredLayers(model);
    this.dense = denseParams(model.params, this.layers);
    this.weights = start.params;
    this.state = start.sgdState;
    this.version = start.version ?? 0;
  }

  readShard(answer: Gradients): ShardReading<FactoredShard> {
    const proof = answer.proof;
    if (!proof) return { ok: false, problem: 'the answer carries no weights proof (a worker without the factored exchange?)', resync: true };
    if (proof.version !== this.version) {
      return { ok: false, problem: `the replica computed with weights version ${proof.version}, the task is of version ${this.version}`, resync: true };
    }
    const crc = this.crcOf(this.version);
    if (proof.crc32 !== crc) {
      return { ok: false, problem: `the replica's weights (crc32 ${proof.crc32.toString(16)}) are not the coordinator's (${crc.toString(16)}) at version ${this.version}`, resync: true };
    }
    const problem = gradientProblem(answer.grads, this.dense) ?? gradientProblem(answer.factors ?? [], factorSpecs(this.layers, answer.sampleCount));
    return problem ? { ok: false, problem } : { ok: true, shard: { grads: answer.grads, factors: answer.factors ?? [] } };
  }

  finishStep(shards: readonly FactoredShard[], step: StepContext, links: WorkerLinks): Promise<PhaseTimes> {
    const clock = new PhaseClock();
    this.settle();
    clock.lap('optimizer');
    const reduced = reduceFactoredShards(shards, this.dense, this.layers, step.samples);
    const inputs: StepInputs = { ...reduced, samples: step.samples, sgd: { ...this.sgd, learningRate: step.learningRate } };
    clock.lap('reduce');
    const update: StepUpdate = { type: 'update', version: this.version + 1, samples: step.samples, learningRate: step.learningRate,
      momentum: this.sgd.momentum, weightDecay: this.sgd.weightDecay, meanGrads: reduced.meanGrads, factors: reduced.factors };
    const frame = encodeMessage(update);
    clock.lap('encode');
    links.broadcast([frame]);
    clock.lap('broadcast');
    this.version += 1;
    this.frame = undefined;
    // After the next tasks are sent (they go out in this tick's continuations): the workers compute meanwhile.
    this.pending = { inputs, timer: setImmediate(() => this.settleQuietly()) };
    return Promise.resolve(clock.read());
  }

  joinFrames(): readonly Uint8Array[] {
    this.settle();
    this.frame ??= encodeMessage({ type: 'weights', version: this.version, tensors: this.weights,
      ...(this.state.length > 0 ? { optimizerState: this.state.map((data, i) => ({ name: this.weights[i]!.name, shape: this.weights[i]!.shape, data })) } : {}) });
    return [this.frame];
  }

  weightsVersion(): number {
    return this.version;
  }

  params(): readonly NamedTensor[] {
    this.settle();
    return this.weights;
  }

  optimizerState(): SgdState {
    this.settle();
    return this.state;
  }

  /** Milliseconds spent so far applying updates to the weights of record off the critical path. */
  offCriticalPathMs(): number {
    return this.offPathMs;
  }

  private crcOf(version: number): number {
    this.settle();
    if (this.crc?.version !== version) this.crc = { version, value: weightsCrc32(this.weights) };
    return this.crc.value;
  }

  /** Applies the pending update to the weights of record, if any. @throws what the deferred application threw. */
  private settle(): void {
    if (this.failure) throw this.failure;
    const pending = this.pending;
    if (!pending) return;
    clearImmediate(pending.timer);
    this.pending = undefined;
    const started = performance.now();
    const next = applyStepUpdate(this.weights, this.state, pending.inputs, this.layers, this.product);
    this.weights = next.params;
    this.state = next.state;
    this.crc = { version: this.version, value: weightsCrc32(this.weights) };
    this.offPathMs += performance.now() - started;
  }

  private settleQuietly(): void {
    try {
      this.settle();
    } catch (error) {
      // Kept for the next call that needs the weights, which throws it into the trainer.
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }
}
