import { DdpError } from '../../shared/common/errors.js';
import type { HeadStat } from '../../shared/model/heads.js';
import { stepId, type WorkerId } from '../../shared/protocol/ids.js';
import { addPhases, roundPhases, scalePhases, type PhaseTimes } from '../../shared/common/phase-times.js';
import type { Logger } from '../../shared/common/logger.js';
import { sumAgreement, sumHeadStats } from '../../shared/model/head-stats.js';
import type { ModelSpec } from '../../shared/model/model-spec.js';
import type { Agreement, Split } from '../../shared/protocol/messages.js';
import type { CoordinatorOptions, TrainResult } from '../coordinator-options.js';
import { summarizeHeads, type HeadSummary } from '../head-metrics.js';
import { scaledLearningRateAt } from '../lr-schedule.js';
import type { ShardReport } from '../observe/run-events.js';
import type { WorkerPool } from '../pool/worker-pool.js';
import type { StepExchange } from '../step-exchange/step-exchange.js';
import type { EpochSummary, TrainingState } from '../training-state.js';
import { epochPermutation, globalBatchAt, stepsPerEpoch } from './epoch-schedule.js';
import { evalRound, stepRound } from './rounds.js';
import { StepTimer } from './step-timing.js';

/** What the trainer needs of the pool: rounds over the live workers, and links for the exchange. */
export type TrainerPool = Pick<WorkerPool, 'runRound' | 'liveWorkers' | 'broadcast' | 'send' | 'live' | 'lastDecodeMs'>;

/** idle: not started; training: in its loop; stopped: ended early by stop(); finished: every epoch ran. */
export type TrainerPhase = 'idle' | 'training' | 'stopped' | 'finished';

/** Where the run is: the next step to run, and what the epochs so far produced. */
interface Position {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  readonly history: EpochSummary[];
  epochStats: HeadStat[];
  /** The current epoch's step phases, summed, and the steps they cover. */
  epochPhases: PhaseTimes;
  timedSteps: number;
}

/**
 * The training loop: epochs of global batches in the seeded order, one round per step, the step exchange turning the
 * round's shards into the next weights, an evaluation round after each epoch, and checkpoints. A stop (the pool
 * refuses rounds with ERR_SHUTDOWN) saves the state at the step in flight, which a resumed run redoes.
 */
export class Trainer<S> {
  private phase_: TrainerPhase = 'idle';
  private readonly at: Position;
  private readonly log: Logger;

  constructor(private readonly options: CoordinatorOptions, private readonly spec: ModelSpec, private readonly pool: TrainerPool,
    private readonly exchange: StepExchange<S>) {
    const resume = options.resumeFrom;
    this.at = { epoch: resume?.epoch ?? 0, stepInEpoch: resume?.stepInEpoch ?? 0, globalStep: resume?.globalStep ?? 0,
      history: [...(resume?.history ?? [])], epochStats: [...(resume?.epochTrainStats ?? [])], epochPhases: {}, timedSteps: 0 };
    this.log = options.log.child({ component: 'coordinator' });
  }

  get phase(): TrainerPhase {
    return this.phase_;
  }

  /** Runs the remaining epochs; resolves with the final state, or the state at the stop. */
  async train(): Promise<TrainResult> {
    if (this.phase_ !== 'idle') throw new Error(`train() called on a trainer that is ${this.phase_}`);
    this.phase_ = 'training';
    const o = this.options;
    try {
      for (const at = this.at; at.epoch < o.epochs; at.epoch++, at.stepInEpoch = 0, at.epochStats = [], at.epochPhases = {}, at.timedSteps = 0) {
        await this.runEpoch();
      }
      this.phase_ = 'finished';
      return { state: this.snapshot(), stopped: false };
    } catch (error) {
      if (!(error instanceof DdpError && error.code === 'ERR_SHUTDOWN')) throw error;
      this.phase_ = 'stopped';
      this.log.warn({ reason: error.message, epoch: this.at.epoch, stepInEpoch: this.at.stepInEpoch }, 'run stopped');
      const state = this.snapshot();
      if (o.checkpoint) await o.checkpoint.save(state);
      return { state, stopped: true };
    }
  }

  /** Evaluates the current weights on a split, sharded over the live workers. */
  async evaluate(split: Split): Promise<{ heads: HeadSummary[]; agreement?: Agreement }> {
    const size = split === 'test' ? this.options.dataset.testSize : this.options.dataset.trainSize;
    const all = new Uint32Array(size).map((_, i) => i);
    const results = await this.pool.runRound(evalRound(split, this.exchange.weightsVersion(), this.spec), all);
    const agreement = sumAgreement(results.map((r) => r.agreement));
    return { heads: summarizeHeads(sumHeadStats(results.map((r) => r.heads))), ...(agreement ? { agreement } : {}) };
  }

  private async runEpoch(): Promise<void> {
    const o = this.options;
    const at = this.at;
    const steps = stepsPerEpoch(o.dataset.trainSize, o.globalBatch);
    const order = epochPermutation(o.seed, at.epoch, o.dataset.trainSize);
    const epochStart = performance.now();
    let samples = 0;
    let learningRate = o.sgd.learningRate;
    while (at.stepInEpoch < steps) {
      const batch = globalBatchAt(order, o.globalBatch, at.stepInEpoch);
      learningRate = scaledLearningRateAt(o.sgd.learningRate, o.sgd.schedule, o.sgd.scaling ?? { kind: 'none' }, o.globalBatch,
        { epoch: at.epoch, stepInEpoch: at.stepInEpoch, stepsPerEpoch: steps, epochs: o.epochs });
      const started = performance.now();
      const lossWeights = [...o.lossWeighting.current()];
      const { heads, phases, shards } = await this.runStep(batch, learningRate);
      at.epochStats = sumHeadStats([at.epochStats, heads]);
      samples += batch.length;
      at.stepInEpoch += 1;
      at.globalStep += 1;
      o.onStep?.({ epoch: at.epoch, stepInEpoch: at.stepInEpoch, stepsPerEpoch: steps, globalStep: at.globalStep,
        samples: batch.length, heads, workers: this.pool.liveWorkers(), stepMs: performance.now() - started, indices: batch,
        learningRate, lossWeights, phases, shards });
      if (o.checkpoint && at.globalStep % o.checkpoint.everySteps === 0 && at.stepInEpoch < steps) {
        await o.checkpoint.save(this.snapshot());
      }
    }
    const trainMs = performance.now() - epochStart;
    const evaluation = await this.evaluate('test');
    const summary: EpochSummary = { epoch: at.epoch, train: summarizeHeads(at.epochStats), test: evaluation.heads,
      ...(evaluation.agreement ? { agreement: evaluation.agreement } : {}),
      samplesPerSecond: samples / (trainMs / 1000), wallMs: performance.now() - epochStart,
      workers: this.pool.liveWorkers(), learningRate, lossWeights: [...o.lossWeighting.current()],
      ...(at.timedSteps > 0 ? { phases: roundPhases(scalePhases(at.epochPhases, 1 / at.timedSteps)), exchange: this.exchange.design } : {}) };
    at.history.push(summary);
    this.log.info({ summary }, 'epoch done');
    // The state after an epoch points at the next one.
    const after: TrainingState = { ...this.snapshot(), epoch: at.epoch + 1, stepInEpoch: 0, epochTrainStats: [] };
    await o.onEpoch?.(summary, after);
    if (o.checkpoint) await o.checkpoint.save(after);
  }

  /**
   * One step: its round over the live workers, then the exchange makes and delivers the next weights. Returns the
   * step's per-head sums, its phase breakdown (step-timing.ts, also summed into the epoch's) and the shard reports.
   */
  private async runStep(batch: Uint32Array, learningRate: number): Promise<{ heads: HeadStat[]; phases: PhaseTimes; shards: ShardReport[] }> {
    const o = this.options;
    const step = stepId(this.at.globalStep);
    const plan = { step, epoch: this.at.epoch, lossWeights: o.lossWeighting.current(), augment: o.augment, augmentSeed: o.seed };
    const timer = new StepTimer();
    const hooks = { timer, decodeMs: () => this.pool.lastDecodeMs(), resync: (worker: WorkerId) => this.resync(worker) };
    const shards = await this.pool.runRound(stepRound(plan, this.exchange, this.spec.heads, hooks), batch);
    const heads = sumHeadStats(shards.map((s) => s.heads));
    const exchangePhases = await this.exchange.finishStep(shards.map((s) => s.shard), { step, samples: batch.length, learningRate }, this.pool);
    const { phases } = timer.finish(exchangePhases);
    this.at.epochPhases = addPhases(this.at.epochPhases, phases);
    this.at.timedSteps += 1;
    o.lossWeighting.observe(new Map(summarizeHeads(heads).map((h) => [h.head, h.meanLoss])), learningRate);
    return { heads, phases, shards: shards.map((s) => s.report) };
  }

  /** A worker answered from weights that are not the coordinator's: it gets them whole before its next task. */
  private resync(worker: WorkerId): void {
    this.log.warn({ worker, design: this.exchange.design }, 'replica weights differ from the coordinator\'s: sending it the full weights');
    this.pool.send(worker, this.exchange.joinFrames());
  }

  private snapshot(): TrainingState {
    const o = this.options;
    const at = this.at;
    return { modelKind: o.modelKind, datasetFingerprint: o.dataset.fingerprint, seed: o.seed, globalBatch: o.globalBatch,
      epoch: at.epoch, stepInEpoch: at.stepInEpoch, globalStep: at.globalStep, params: this.exchange.params(),
      sgdState: this.exchange.optimizerState(), lossWeighting: o.lossWeighting.state(), history: [...at.history],
      epochTrainStats: at.epochStats };
  }
}
