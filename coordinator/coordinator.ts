import type { Agreement, Split } from '../shared/protocol/messages.js';
import { modelSpec } from '../shared/model/model-spec.js';
import type { CoordinatorOptions, TrainResult } from './coordinator-options.js';
import type { HeadSummary } from './head-metrics.js';
import { runWireLimits } from '../shared/protocol/wire-limits.js';
import { defaultDeadlinePolicy } from './pool/deadline.js';
import { WorkerPool } from './pool/worker-pool.js';
import { chooseExchange } from './step-exchange/exchange-choice.js';
import { createExchange } from './step-exchange/designs.js';
import { Trainer } from './trainer/trainer.js';

/**
 * A training run's coordinator: a worker pool (the socket, admission, membership, liveness, rounds of tasks), a
 * trainer (epochs, steps, evaluation, checkpoints) and the step exchange between them (options.exchange: central SGD, or
 * factored: replicas take the step from sufficient factors, proven against the weights of record here; 'auto' picks;
 * step-exchange/exchange-choice.ts). Lifecycle: start() binds; train() runs; stop() ends the run at the next safe
 * point; close() says goodbye to the workers and releases the socket.
 */
export class Coordinator {
  private constructor(private readonly pool: WorkerPool, private readonly trainer: Trainer<unknown>, readonly endpoint: string,
    /** The step exchange design this run uses. */
    readonly exchange: string) {}

  /** Binds the socket. @throws DdpError ERR_INSECURE_BIND for a non-loopback bind without CURVE or --insecure. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const spec = modelSpec(options.modelKind);
    const resume = options.resumeFrom;
    const design = chooseExchange(options.exchange ?? 'auto', spec, options.globalBatch, options.sgd.momentum);
    const exchange = createExchange(design, { params: resume?.params ?? options.initialParams, sgdState: resume?.sgdState ?? [],
      model: spec, sgd: { momentum: options.sgd.momentum, weightDecay: options.sgd.weightDecay } });
    options.log.info({ design }, `step exchange: ${design}`);
    const limits = runWireLimits(options.modelKind, [options.dataset.trainSize, options.dataset.testSize]);
    const pool = await WorkerPool.start({ bind: options.bind, limits, security: options.security, datasetFingerprint: options.dataset.fingerprint,
      modelKind: options.modelKind, minWorkers: options.minWorkers, heartbeatIntervalMs: options.heartbeatIntervalMs,
      workerTimeoutMs: options.workerTimeoutMs, maxWorkerFaults: options.maxWorkerFaults, joinFrames: () => exchange.joinFrames(),
      deadlines: { ...defaultDeadlinePolicy(options.heartbeatIntervalMs, options.workerTimeoutMs), ...options.deadlines },
      log: options.log, ...(options.events ? { events: options.events } : {}),
      ...(options.datasetServer ? { datasetServer: options.datasetServer } : {}) });
    return new Coordinator(pool, new Trainer(options, spec, pool, exchange), pool.endpoint, design);
  }

  liveWorkers(): number {
    return this.pool.liveWorkers();
  }

  /** Ends the run at the next safe point: the step in flight is abandoned (it is redone on resume). */
  stop(reason: string): void {
    this.pool.stop(reason);
  }

  /** Runs the remaining epochs; resolves with the final state, or the state at the stop. */
  train(): Promise<TrainResult> {
    return this.trainer.train();
  }

  /** Evaluates the current weights on a split, sharded over the live workers. */
  evaluate(split: Split): Promise<{ heads: HeadSummary[]; agreement?: Agreement }> {
    return this.trainer.evaluate(split);
  }

  /** Tells the workers the run is over and closes the socket. */
  close(reason = 'run finished', resumable = false): Promise<void> {
    return this.pool.close(reason, resumable);
  }
}

export type { CoordinatorOptions, DatasetInfo, StepInfo, TrainResult } from './coordinator-options.js';
