import type { Agreement, HeadName, HeadStat, LossWeights } from '../model/heads.js';
import type { TaskId, StepId, WorkerId } from './ids.js';
import type { NamedTensor } from '../common/named-tensor.js';
import type { PhaseTimes } from '../common/phase-times.js';

/**
 * Every message of the protocol as the program sees it: a union on `type`, so that each dispatch `switch` is
 * exhaustive. proto/ddp.proto is the wire form; shared/protocol/codec.ts maps between the two and validates.
 */
export type Split = 'train' | 'test';

export interface Hello {
  readonly type: 'hello';
  readonly protocolVersion: number;
  readonly backend: string;
  readonly datasetFingerprint: string;
  readonly workerName: string;
  readonly modelKind: string;
  readonly host: string;
  readonly pid: number;
}
export interface Welcome {
  readonly type: 'welcome';
  readonly workerId: WorkerId;
  readonly heartbeatIntervalMs: number;
  /** The coordinator's worker timeout: the worker says hello again after this much silence from it. */
  readonly workerTimeoutMs: number;
  /** The run's model: a worker running another one leaves. */
  readonly modelKind: string;
}
export interface Refused {
  readonly type: 'refused';
  readonly code: string;
  readonly reason: string;
}
export interface StepAssignment {
  readonly type: 'step';
  readonly taskId: TaskId;
  readonly stepId: StepId;
  readonly epoch: number;
  /** The Weights version the task is for; a worker holding another one refuses the task (ERR_WEIGHTS_VERSION). */
  readonly weightsVersion: number;
  readonly sampleIndices: Uint32Array;
  readonly lossWeights: LossWeights;
  readonly augment: boolean;
  readonly augmentSeed: number;
  /** The coordinator's step exchange design; 'factored' asks for factors and a weights proof. */
  readonly exchange?: string;
}
export interface Gradients {
  readonly type: 'gradients';
  readonly taskId: TaskId;
  readonly stepId: StepId;
  readonly sampleCount: number;
  readonly grads: readonly NamedTensor[];
  readonly heads: readonly HeadStat[];
  readonly computeMs: number;
  /** Where the worker's time went since its previous answer (see shared/common/phase-times.ts). */
  readonly phases?: PhaseTimes;
  /** Factored exchange: '<kernel>:x' and '<kernel>:dy' per factored layer (see proto/ddp.proto). */
  readonly factors?: readonly NamedTensor[];
  /** Factored exchange: the weights this answer was computed with. */
  readonly proof?: WeightsProof;
}
/** A replica's claim about its weights: version and CRC-32 of their float32 bytes in parameter order. */
export interface WeightsProof {
  readonly version: number;
  readonly crc32: number;
}
export interface Weights {
  readonly type: 'weights';
  readonly version: number;
  readonly tensors: readonly NamedTensor[];
  /** Factored exchange with momentum: the velocity per parameter (empty: none yet). */
  readonly optimizerState?: readonly NamedTensor[];
}
/** Factored exchange: one optimizer step's reduced update, applied by every replica as by the coordinator. */
export interface StepUpdate {
  readonly type: 'update';
  /** The version this update produces. */
  readonly version: number;
  readonly samples: number;
  readonly learningRate: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly meanGrads: readonly NamedTensor[];
  readonly factors: readonly NamedTensor[];
}
export interface EvalRequest {
  readonly type: 'eval-request';
  readonly taskId: TaskId;
  readonly split: Split;
  readonly sampleIndices: Uint32Array;
  /** As StepAssignment.weightsVersion. */
  readonly weightsVersion: number;
}
export type { Agreement };
export interface EvalResult {
  readonly type: 'eval-result';
  readonly taskId: TaskId;
  readonly sampleCount: number;
  readonly heads: readonly HeadStat[];
  readonly agreement?: Agreement;
}
/** Liveness only: its arrival is the news. */
export interface Heartbeat {
  readonly type: 'heartbeat';
}
export interface Shutdown {
  readonly type: 'shutdown';
  readonly reason: string;
  /** The coordinator stops to be resumed: workers that can should rejoin rather than exit. */
  readonly resumable: boolean;
}
export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
  readonly taskId: TaskId;
}
export interface Goodbye {
  readonly type: 'goodbye';
  readonly reason: string;
}

/** worker -> coordinator, before hello: bytes of the coordinator's dataset file from `offset` (0 bytes: size only). */
export interface DatasetRequest {
  readonly type: 'dataset-request';
  readonly offset: number;
  readonly maxBytes: number;
}
/** coordinator -> worker: one chunk of the dataset file (shared/dataset/dataset-cache.ts format). */
export interface DatasetChunk {
  readonly type: 'dataset-chunk';
  readonly fingerprint: string;
  readonly offset: number;
  readonly totalBytes: number;
  readonly data: Uint8Array;
}

export type Message =
  | Hello
  | Welcome
  | Refused
  | StepAssignment
  | Gradients
  | Weights
  | EvalRequest
  | EvalResult
  | Heartbeat
  | Shutdown
  | ErrorMessage
  | Goodbye
  | DatasetRequest
  | DatasetChunk
  | StepUpdate;

export type MessageType = Message['type'];

export type { HeadName };
