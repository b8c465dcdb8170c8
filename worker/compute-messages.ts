import type { BackendChoice } from '../shared/compute/backend.js';
import type { Split } from '../shared/dataset/omniglot.js';
import type { ErrorCode } from '../shared/common/errors.js';
import type { Agreement, HeadStat } from '../shared/model/heads.js';
import type { StepId, TaskId } from '../shared/protocol/ids.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import type { EvalRequest, StepAssignment, StepUpdate, WeightsProof } from '../shared/protocol/messages.js';
import type { PhaseTimes } from '../shared/common/phase-times.js';
import type { ReplicaStart } from './compute-engine.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';

/**
 * What the socket thread and the compute thread of a worker say to each other (node:worker_threads messages).
 * Tensors and indices cross by transfer, the dataset's images by shared memory: nothing large is copied.
 */

/** The compute thread's `workerData`. */
export interface ComputeInit {
  readonly modelKind: ModelKind;
  readonly backend: BackendChoice;
  /** Images on a SharedArrayBuffer, so the thread reads the socket thread's copy. */
  readonly train: Split;
  readonly test: Split;
  readonly characterAlphabet: Int32Array;
  readonly microBatch: number;
  /** Test hook: the thread blocks this long before each task, as a slow device would. 0 outside tests. */
  readonly delayMsPerTask: number;
  /** Test hook (factored exchange): corrupt the replica's weights when an update brings them to this version. */
  readonly corruptReplicaAtVersion?: number;
}

/** socket thread -> compute thread, handled in order, one at a time. */
export type ComputeRequest =
  | { readonly kind: 'weights'; readonly tensors: readonly NamedTensor[]; readonly replica?: ReplicaStart }
  | { readonly kind: 'update'; readonly update: StepUpdate }
  | { readonly kind: 'step'; readonly task: StepAssignment }
  | { readonly kind: 'eval'; readonly task: EvalRequest };

/** compute thread -> socket thread: the answer to each task, in order. */
export type ComputeAnswer =
  | { readonly kind: 'gradients'; readonly taskId: TaskId; readonly stepId: StepId; readonly sampleCount: number;
    readonly grads: readonly NamedTensor[]; readonly heads: readonly HeadStat[]; readonly computeMs: number;
    /** The compute thread's phases since its previous answer (optimizer, upload, gather, compute, readBack). */
    readonly phases?: PhaseTimes;
    /** Factored exchange: the shard's factors and the proof of the weights they were computed with. */
    readonly factors?: readonly NamedTensor[]; readonly proof?: WeightsProof }
  | { readonly kind: 'evaluated'; readonly taskId: TaskId; readonly sampleCount: number; readonly heads: readonly HeadStat[];
    readonly agreement?: Agreement }
  | { readonly kind: 'failed'; readonly taskId: TaskId; readonly message: string }
  /** Weights the model cannot take (names, shapes): the worker cannot go on. */
  | { readonly kind: 'weights-refused'; readonly message: string };

/** compute thread -> socket thread, once, before any answer. */
export type ComputeStarted =
  | { readonly kind: 'ready'; readonly backend: Exclude<BackendChoice, 'auto'>; readonly reason: string }
  | { readonly kind: 'init-failed'; readonly code: ErrorCode | undefined; readonly message: string };

export type ComputeReport = ComputeStarted | ComputeAnswer;

/**
 * The buffers of `arrays` that may move to the other thread: whole, unshared, each once. A view into a larger buffer is left
 * to the structured clone (a copy), since moving its buffer would take memory that others still use.
 */
export function movableBuffers(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  const buffers = arrays.filter((a) => a.byteOffset === 0 && a.byteLength === a.buffer.byteLength).map((a) => a.buffer);
  return [...new Set(buffers)].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}
