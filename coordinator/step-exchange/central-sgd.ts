import type { ParamSpec } from '../../shared/model/model-spec.js';
import { encodeMessage } from '../../shared/protocol/codec.js';
import type { Gradients } from '../../shared/protocol/messages.js';
import type { NamedTensor } from '../../shared/common/named-tensor.js';
import { gradientProblem } from '../answer-check.js';
import type { ShardReading, StepContext, StepExchange, WorkerLinks } from './step-exchange.js';
import { meanGradients, type SgdOptions, type SgdState } from './sum-and-sgd.js';
import { sgdStep } from '../../shared/exchange/sgd-step.js';
import { PhaseClock, type PhaseTimes } from '../../shared/common/phase-times.js';

/** A shard's contribution in this design: its gradient sums, one tensor per parameter. */
export type GradientShard = readonly NamedTensor[];

/**
 * Today's design: workers send gradient sums, the coordinator adds them and takes the SGD step in one pass, and
 * broadcasts the whole new weights (one protobuf message) to every worker.
 */
export class CentralSgdExchange implements StepExchange<GradientShard> {
  readonly design = 'central-sgd';
  private weights: readonly NamedTensor[];
  private state: SgdState;
  private version = 0;
  /** The encoded weights of the current version, shared by every send of it. */
  private frame: Uint8Array | undefined;

  constructor(start: { readonly params: readonly NamedTensor[]; readonly sgdState: SgdState },
    private readonly model: readonly ParamSpec[], private readonly sgd: Omit<SgdOptions, 'learningRate'>) {
    this.weights = start.params;
    this.state = start.sgdState;
  }

  readShard(answer: Gradients): ShardReading<GradientShard> {
    const problem = gradientProblem(answer.grads, this.model);
    return problem ? { ok: false, problem } : { ok: true, shard: answer.grads };
  }

  finishStep(shards: readonly GradientShard[], step: StepContext, links: WorkerLinks): Promise<PhaseTimes> {
    const clock = new PhaseClock();
    const means = meanGradients(this.weights, shards, step.samples);
    clock.lap('reduce');
    const next = sgdStep(this.weights, means, this.state, { ...this.sgd, learningRate: step.learningRate });
    clock.lap('optimizer');
    this.weights = next.params;
    this.state = next.state;
    this.version += 1;
    this.frame = undefined;
    const frames = this.joinFrames();
    clock.lap('encode');
    links.broadcast(frames);
    clock.lap('broadcast');
    return Promise.resolve(clock.read());
  }

  joinFrames(): readonly Uint8Array[] {
    this.frame ??= encodeMessage({ type: 'weights', version: this.version, tensors: this.weights });
    return [this.frame];
  }

  weightsVersion(): number {
    return this.version;
  }

  params(): readonly NamedTensor[] {
    return this.weights;
  }

  optimizerState(): SgdState {
    return this.state;
  }
}
