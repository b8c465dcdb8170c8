import type { Agreement, HeadName, HeadStat } from '../../shared/model/heads.js';
import type { StepId, WorkerId } from '../../shared/protocol/ids.js';
import type { Split } from '../../shared/protocol/messages.js';
import { evalResultProblem, headsProblem } from '../answer-check.js';
import type { ModelSpec } from '../../shared/model/model-spec.js';
import { nowMs, type ShardReport } from '../observe/run-events.js';
import type { RoundSpec } from '../pool/round-runner.js';
import type { StepExchange } from '../step-exchange/step-exchange.js';
import type { StepTimer } from './step-timing.js';

/** One shard of a training step: what the exchange takes from it, and its per-head sums for the metrics. */
export interface StepShard<S> {
  readonly shard: S;
  readonly heads: readonly HeadStat[];
  /** Who computed it and how long it took, for the run's views. */
  readonly report: ShardReport;
}

export interface EvalShard {
  readonly heads: readonly HeadStat[];
  readonly agreement: Agreement | undefined;
}

export interface StepPlan {
  readonly step: StepId;
  readonly epoch: number;
  readonly lossWeights: ReadonlyMap<HeadName, number>;
  readonly augment: boolean;
  readonly augmentSeed: number;
}

/** What a step round needs besides the plan: its timer, the pool's decode time of the answer, and resyncs. */
export interface StepRoundHooks {
  readonly timer: StepTimer;
  /** How long decoding the answer being read took (the pool decodes just before the round reads). */
  decodeMs(): number;
  /** Sends a worker whose weights are not the coordinator's the full weights, before its task goes out again. */
  resync(worker: WorkerId): void;
}

/** A training step's round: each task computes gradients on a piece of the global batch at the current weights. */
export function stepRound<S>(plan: StepPlan, exchange: StepExchange<S>, heads: readonly HeadName[], hooks: StepRoundHooks): RoundSpec<StepShard<S>> {
  return {
    kind: 'step', answer: 'gradients', refusal: 'ERR_BAD_GRADIENTS', context: { step: plan.step },
    task: (task, piece) => {
      hooks.timer.taskSent(task);
      return { type: 'step', taskId: task, stepId: plan.step, epoch: plan.epoch, weightsVersion: exchange.weightsVersion(),
        sampleIndices: piece.indices, lossWeights: plan.lossWeights, augment: plan.augment, augmentSeed: plan.augmentSeed,
        exchange: exchange.design };
    },
    read: (answer, sender) => {
      const started = performance.now();
      if (answer.type !== 'gradients') return { ok: false, problem: `${answer.type} is not an answer to a step` };
      // The task is this step's, so its step id must be too: a mismatch is a confused or forged answer.
      if (answer.stepId !== plan.step) return { ok: false, problem: `gradients say step ${answer.stepId}, the task is of step ${plan.step}` };
      const reading = exchange.readShard(answer);
      if (!reading.ok) {
        if (reading.resync) hooks.resync(sender.id);
        return reading;
      }
      const problem = headsProblem(answer.heads, heads, answer.sampleCount);
      if (problem) return { ok: false, problem };
      hooks.timer.answerRead(answer.taskId, hooks.decodeMs(), started, answer.phases);
      return { ok: true, result: { shard: reading.shard, heads: answer.heads,
        report: { worker: sender.name, samples: answer.sampleCount, computeMs: answer.computeMs, arrivedAtMs: nowMs(),
          ...(answer.phases ? { phases: answer.phases } : {}) } } };
    },
  };
}

/** An evaluation round: per-head sums (and agreement) of the current weights on a piece of a split. */
export function evalRound(split: Split, weightsVersion: number, spec: ModelSpec): RoundSpec<EvalShard> {
  return {
    kind: 'eval', answer: 'eval-result', refusal: 'ERR_BAD_MESSAGE', context: { split },
    task: (task, piece) => ({ type: 'eval-request', taskId: task, split, sampleIndices: piece.indices, weightsVersion }),
    read: (answer) => {
      if (answer.type !== 'eval-result') return { ok: false, problem: `${answer.type} is not an evaluation result` };
      const problem = evalResultProblem(answer, spec);
      return problem ? { ok: false, problem: `evaluation result: ${problem}` }
        : { ok: true, result: { heads: answer.heads, agreement: answer.agreement } };
    },
  };
}
