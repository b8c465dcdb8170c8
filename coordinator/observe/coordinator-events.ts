import type { CoordinatorOptions, StepInfo } from '../coordinator-options.js';
import { stepsPerEpoch } from '../trainer/epoch-schedule.js';
import { summarizeHeads, type HeadSummary } from '../head-metrics.js';
import type { EpochSummary, TrainingState } from '../training-state.js';
import type { HeadFigures, RunEventBody, RunEventSink } from './run-events.js';
import { modelSpec } from '../../shared/model/model-spec.js';
import type { PhaseTimes } from '../../shared/common/phase-times.js';

function headFigures(heads: readonly HeadSummary[]): HeadFigures[] {
  return heads.map((h) => ({ head: h.head, loss: h.meanLoss, accuracy: h.accuracy }));
}

export function stepEvent(info: StepInfo): RunEventBody {
  return { kind: 'step', epoch: info.epoch, stepInEpoch: info.stepInEpoch, stepsPerEpoch: info.stepsPerEpoch, globalStep: info.globalStep,
    samples: info.samples, stepMs: info.stepMs, learningRate: info.learningRate, lossWeights: Object.fromEntries(info.lossWeights),
    heads: headFigures(summarizeHeads(info.heads)), workers: info.workers, ...(info.shards ? { shards: info.shards } : {}),
    ...(info.phases ? { coordinatorPhases: coordinatorPart(info.phases) } : {}) };
}

/** The coordinator's phases of a step breakdown ('coordinator.reduce' -> 'reduce'). */
function coordinatorPart(phases: PhaseTimes): Record<string, number> {
  const prefix = 'coordinator.';
  return Object.fromEntries(Object.entries(phases).filter(([name]) => name.startsWith(prefix)).map(([name, ms]) => [name.slice(prefix.length), ms]));
}

/** `state` is the state after the epoch (its globalStep is the epoch's last step). */
export function epochEvent(summary: EpochSummary, state: TrainingState): RunEventBody {
  return { kind: 'epoch', epoch: summary.epoch, globalStep: state.globalStep, train: headFigures(summary.train), test: headFigures(summary.test),
    samplesPerSecond: summary.samplesPerSecond, wallMs: summary.wallMs, workers: summary.workers };
}

/**
 * The coordinator options with every run event going to `sink`: the coordinator's own (joins, losses, refusals,
 * traffic), and those its callbacks give (steps, epochs, checkpoints); a resumed run says where it resumed.
 * The given callbacks still run, first.
 */
export function emittingEvents(options: CoordinatorOptions, sink: RunEventSink, runDir?: string): CoordinatorOptions {
  sink.emit({ kind: 'run-started', model: options.modelKind, epochs: options.epochs, globalBatch: options.globalBatch,
    stepsPerEpoch: stepsPerEpoch(options.dataset.trainSize, options.globalBatch), heads: modelSpec(options.modelKind).heads,
    ...(runDir !== undefined ? { runDir } : {}) });
  const resume = options.resumeFrom;
  if (resume) sink.emit({ kind: 'resumed', epoch: resume.epoch, stepInEpoch: resume.stepInEpoch, globalStep: resume.globalStep });
  const checkpoint = options.checkpoint;
  return {
    ...options,
    events: sink,
    onStep: (info) => {
      options.onStep?.(info);
      sink.emit(stepEvent(info));
    },
    onEpoch: async (summary, state) => {
      await options.onEpoch?.(summary, state);
      sink.emit(epochEvent(summary, state));
    },
    ...(checkpoint ? { checkpoint: { everySteps: checkpoint.everySteps, save: async (state: TrainingState) => {
      await checkpoint.save(state);
      sink.emit({ kind: 'checkpoint-written', epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep });
    } } } : {}),
  };
}
