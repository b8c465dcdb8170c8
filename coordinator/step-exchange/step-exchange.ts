import type { StepId, WorkerId } from '../../shared/protocol/ids.js';
import type { Gradients } from '../../shared/protocol/messages.js';
import type { NamedTensor } from '../../shared/common/named-tensor.js';
import type { PhaseTimes } from '../../shared/common/phase-times.js';
import type { SgdState } from './sum-and-sgd.js';

/** How an exchange reaches the workers: the pool's live workers, through the pool's sends. */
export interface WorkerLinks {
  /** Queues one message (its ZeroMQ frames, one today) for every live worker; per-peer order is kept. */
  broadcast(frames: readonly Uint8Array[]): void;
  /** Queues one message for one worker; a worker that is gone drops it. */
  send(worker: WorkerId, frames: readonly Uint8Array[]): void;
  live(): readonly WorkerId[];
}

/** What the trainer tells an exchange about the step it finishes. */
export interface StepContext {
  readonly step: StepId;
  /** The global batch's size: the divisor of the mean gradient. */
  readonly samples: number;
  readonly learningRate: number;
}

/** A shard read, or why not; `resync`: the worker's weights are not the coordinator's, send it them again. */
export type ShardReading<S> = { readonly ok: true; readonly shard: S }
  | { readonly ok: false; readonly problem: string; readonly resync?: boolean };

/**
 * The seam of a training step: shard results in, next weights out and delivered to the workers. The trainer runs
 * the step's round, hands the accepted shards over in plan (offset) order, and starts the next step's round when
 * `finishStep` resolves. `S` is what one shard contributes (today: its gradient sums).
 *
 * An implementation must guarantee:
 * - `readShard` has no side effects, and refuses (with a reason naming the tensor) whatever must not reach the
 *   weights; the trainer then refuses the answer and the shard is recomputed elsewhere.
 * - `finishStep` resolves with the time of its coordinator phases (reduce, optimizer, encode, broadcast: see
 *   shared/common/phase-times.ts), for the step's breakdown.
 * - `finishStep` uses every shard once, in the order given, so a rerun with the same split gives bit-identical
 *   weights and any other split of the same batch stays within the 1-vs-N tolerance (see distributed-equivalence).
 * - when `finishStep` resolves, `params()`, `optimizerState()` and `weightsVersion()` describe the new step (the
 *   version grows by one per step); when it throws, they are unchanged.
 * - before `finishStep` resolves, every live worker has been queued what it needs to compute the next step, so
 *   the next task (sent after, on the same ordered link) never meets stale weights.
 * - `joinFrames()` is everything a worker admitted mid-run needs before its first task; it is also sent to a worker
 *   whose answer came back with `resync`, before its task is handed out again.
 *
 * Designs this leaves room for: workers that apply the optimizer themselves (deliver the summed gradient and a
 * weights checksum instead of the weights), tensors in their own ZeroMQ frames (`WorkerLinks` takes frames), and
 * reduction trees or rings where workers sum partial gradients (`S` becomes a partial sum or a receipt).
 */
export interface StepExchange<S> {
  /** Names the design in logs and notes, e.g. 'central-sgd'. */
  readonly design: string;
  readShard(answer: Gradients): ShardReading<S>;
  finishStep(shards: readonly S[], step: StepContext, links: WorkerLinks): Promise<PhaseTimes>;
  joinFrames(): readonly Uint8Array[];
  weightsVersion(): number;
  /** The weights of record: what is evaluated, checkpointed and exported. */
  params(): readonly NamedTensor[];
  optimizerState(): SgdState;
}
