import { Coordinator, type CoordinatorOptions } from '../../coordinator/coordinator.js';
import { LossWeighting } from '../../coordinator/loss-weighting.js';
import type { OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Logger } from '../../shared/common/logger.js';
import { silentLogger } from '../../shared/common/logger.js';
import { initialParams } from '../../shared/model/initial-params.js';
import type { ModelKind } from '../../shared/model/model-spec.js';
import { TrainingWorker, type WorkerOptions } from '../../worker/training-worker.js';

/** What coordinator options need of a dataset: a child process running only the coordinator gets just this. */
export interface DatasetSizes {
  readonly fingerprint: string;
  readonly train: { readonly size: number };
  readonly test: { readonly size: number };
}

export interface ClusterOptions {
  readonly data: DatasetSizes;
  readonly modelKind?: ModelKind;
  readonly workers: number;
  readonly epochs?: number;
  readonly globalBatch?: number;
  readonly seed?: number;
  readonly log?: Logger;
  readonly overrides?: Partial<CoordinatorOptions>;
}

/** Coordinator options for a test run on `data`: the course's SGD, 1:1 weights, quick liveness. */
export function coordinatorOptions(o: ClusterOptions): CoordinatorOptions {
  const modelKind = o.modelKind ?? 'two-output';
  const seed = o.seed ?? 7;
  const weights = modelKind === 'two-output' ? new Map([['alphabet', 1], ['character', 1]] as const) : new Map([['character', 1]] as const);
  return {
    bind: 'tcp://127.0.0.1:*',
    dataset: { fingerprint: o.data.fingerprint, trainSize: o.data.train.size, testSize: o.data.test.size },
    modelKind,
    seed,
    epochs: o.epochs ?? 1,
    globalBatch: o.globalBatch ?? 32,
    sgd: { learningRate: 0.01, momentum: 0, weightDecay: 0, schedule: { kind: 'constant' } },
    lossWeighting: LossWeighting.create('fixed', weights),
    augment: false,
    minWorkers: o.workers,
    heartbeatIntervalMs: 200,
    workerTimeoutMs: 3000,
    maxWorkerFaults: 3,
    initialParams: initialParams(modelKind, seed),
    security: { kind: 'plain', insecure: false },
    log: o.log ?? silentLogger(),
    ...o.overrides,
  };
}

/** In-process workers over real ZeroMQ sockets, connected to `endpoint`; `extra` overrides their options. */
export async function startWorkers(endpoint: string, data: OmniglotData, count: number, modelKind: ModelKind = 'two-output',
  log: Logger = silentLogger(), extra: Partial<WorkerOptions> = {}): Promise<TrainingWorker[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => TrainingWorker.start({ connect: endpoint, data, backend: 'auto',
    modelKind, name: `test-worker-${i + 1}`, log, security: { kind: 'plain' }, microBatch: 32, ...extra })));
}

export { maxRelativeDifference } from './tolerance.js';

export async function trainWith(o: ClusterOptions & { readonly data: OmniglotData }) {
  const options = coordinatorOptions(o);
  const coordinator = await Coordinator.start(options);
  const workers = await startWorkers(coordinator.endpoint, o.data, o.workers, options.modelKind);
  try {
    return await coordinator.train();
  } finally {
    await coordinator.close();
    await Promise.all(workers.map((w) => w.finished));
  }
}
