import type { HeadName, HeadStat } from '../shared/model/heads.js';
import type { Logger } from '../shared/common/logger.js';
import type { ModelKind } from '../shared/model/model-spec.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import type { PhaseTimes } from '../shared/common/phase-times.js';
import type { ExchangeChoice } from './step-exchange/exchange-choice.js';
import type { DatasetServer } from './dataset-server.js';
import type { LossWeighting } from './loss-weighting.js';
import type { RunEventSink, ShardReport } from './observe/run-events.js';
import type { LrScaling, LrSchedule } from './lr-schedule.js';
import type { DeadlinePolicy } from './pool/deadline.js';
import type { ServerSecurity } from './server-security.js';
import type { SgdOptions } from './step-exchange/sum-and-sgd.js';
import type { EpochSummary, TrainingState } from './training-state.js';

/** What the coordinator needs of the dataset: workers load the data itself, the coordinator only indexes it. */
export interface DatasetInfo {
  readonly fingerprint: string;
  readonly trainSize: number;
  readonly testSize: number;
}

export interface CoordinatorOptions {
  /** ZeroMQ endpoint to bind, e.g. tcp://127.0.0.1:5555 or tcp://127.0.0.1:* for a free port. */
  readonly bind: string;
  readonly dataset: DatasetInfo;
  readonly modelKind: ModelKind;
  readonly seed: number;
  readonly epochs: number;
  readonly globalBatch: number;
  /** `learningRate` is the base rate; `scaling` (default none) scales it with the global batch. */
  readonly sgd: Omit<SgdOptions, 'learningRate'> & { readonly learningRate: number; readonly schedule: LrSchedule; readonly scaling?: LrScaling };
  readonly lossWeighting: LossWeighting;
  readonly augment: boolean;
  /** How shard results become the next weights (coordinator/step-exchange/exchange-choice.ts); default 'auto'. */
  readonly exchange?: ExchangeChoice;
  /** Workers needed before a step starts; below it the coordinator waits and says so. */
  readonly minWorkers: number;
  readonly heartbeatIntervalMs: number;
  /** A worker silent this long is declared lost and its tasks reassigned. */
  readonly workerTimeoutMs: number;
  /** Bad messages tolerated from one worker before it is disconnected. */
  readonly maxWorkerFaults: number;
  /** Task deadlines; unset fields take defaultDeadlinePolicy(heartbeatIntervalMs, workerTimeoutMs). */
  readonly deadlines?: Partial<DeadlinePolicy>;
  readonly initialParams: readonly NamedTensor[];
  /** A state to continue from (from a checkpoint); otherwise a fresh run from initialParams. */
  readonly resumeFrom?: TrainingState;
  /** Called with the state after every `checkpointEverySteps` steps, at each epoch's end, and on stop. */
  readonly checkpoint?: { readonly everySteps: number; readonly save: (state: TrainingState) => Promise<void> };
  readonly security: ServerSecurity;
  /** Sends the decoded set to workers that have none (DatasetRequest); absent: such requests are refused. */
  readonly datasetServer?: DatasetServer;
  readonly log: Logger;
  /** Where joins, losses, refusals, reassignments, worker status and socket traffic are reported (dashboard, metrics). */
  readonly events?: RunEventSink;
  readonly onStep?: (info: StepInfo) => void;
  readonly onEpoch?: (summary: EpochSummary, state: TrainingState) => void | Promise<void>;
}

export interface StepInfo {
  readonly epoch: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly globalStep: number;
  readonly samples: number;
  readonly heads: readonly HeadStat[];
  readonly workers: number;
  readonly stepMs: number;
  /** The training-set indices of the step's global batch (each sample of an epoch appears in exactly one step). */
  readonly indices: Uint32Array;
  /** The learning rate and per-head loss weights this step applied (for the run's metrics). */
  readonly learningRate: number;
  readonly lossWeights: readonly [HeadName, number][];
  /** Where the step's time went, by phase (see coordinator/trainer/step-timing.ts). */
  readonly phases?: PhaseTimes;
  /** Each worker's part of the step, in the order the answers were accepted. */
  readonly shards?: readonly ShardReport[];
}

export interface TrainResult {
  readonly state: TrainingState;
  /** True when stop() ended the run early. */
  readonly stopped: boolean;
}
