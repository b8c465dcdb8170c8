import { elementCount, type NamedTensor } from '../../../shared/common/named-tensor.js';
import { emptyHeadStat } from '../../../shared/model/head-stats.js';
import type { HeadStat } from '../../../shared/model/heads.js';
import { modelSpec, type ModelKind } from '../../../shared/model/model-spec.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EvalRequest, StepAssignment } from '../../../shared/protocol/messages.js';
import type { ComputeEngine, ComputeEvents } from '../../../worker/compute-engine.js';
import type { ComputeAnswer } from '../../../worker/compute-messages.js';

/** The fingerprint simulated workers and the benchmark's coordinator agree on: no dataset is loaded. */
export const SIMULATED_DATASET = 'bench-scale-simulated-no-data';

export interface SimulatedComputeOptions {
  readonly modelKind: ModelKind;
  /** Milliseconds the shard's compute takes per sample (the calibrated delay, dilated and with the link delays). */
  readonly msPerSample: number;
  /** The steps between whose tasks this worker's CPU is measured. */
  readonly measure: { readonly fromStep: number; readonly toStep: number };
  readonly onMeasured: (cpuMs: number, steps: number) => void;
}

/**
 * BENCHMARK AID, never used in training: a worker compute engine that takes a calibrated time per sample and
 * answers with zero gradients of the model's real shapes, so the real worker, codec, sockets and coordinator move
 * messages of the real sizes. Like the real compute thread it never blocks the worker's socket thread; unlike it, it
 * waits on a timer, so simulated compute uses no core and the machine's cores go to the messaging being measured.
 * Heads report the samples, with no loss.
 */
export class SimulatedCompute implements ComputeEngine {
  readonly backend = { name: 'simulated (bench-scale)', reason: 'bench-scale calibrated delay' };
  private readonly zeros: readonly NamedTensor[];
  private readonly heads: readonly HeadStat[];
  private cpuFrom: NodeJS.CpuUsage | undefined;
  /** Tasks run one at a time in arrival order, as in the compute thread. */
  private queue: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(private readonly options: SimulatedComputeOptions, private readonly events: ComputeEvents) {
    const spec = modelSpec(options.modelKind);
    this.zeros = spec.params.map((p) => ({ name: p.name, shape: [...p.shape], data: new Float32Array(elementCount(p.shape)) }));
    this.heads = spec.heads.map(emptyHeadStat);
  }

  setWeights(): void {
    // The weights arrive and are decoded by the real worker; nothing computes with them here.
  }

  step(task: StepAssignment): void {
    this.enqueue(async () => {
      const { fromStep, toStep } = this.options.measure;
      if (task.stepId === fromStep) this.cpuFrom = process.cpuUsage();
      if (task.stepId === toStep && this.cpuFrom) {
        const used = process.cpuUsage(this.cpuFrom);
        this.options.onMeasured((used.user + used.system) / 1000, toStep - fromStep);
      }
      const n = task.sampleIndices.length;
      const computeMs = this.options.msPerSample * n;
      await sleep(computeMs);
      this.answer({ kind: 'gradients', taskId: task.taskId, stepId: task.stepId, sampleCount: n, grads: this.zeros,
        heads: this.heads.map((h) => ({ ...h, count: n })), computeMs });
    });
  }

  evaluate(task: EvalRequest): void {
    this.enqueue(() => {
      this.answer({ kind: 'evaluated', taskId: task.taskId, sampleCount: task.sampleIndices.length,
        heads: this.heads.map((h) => ({ ...h, count: task.sampleIndices.length })) });
      return Promise.resolve();
    });
  }

  terminate(): Promise<void> {
    this.ended = true;
    return Promise.resolve();
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => this.events.onCrash(error as Error));
  }

  private answer(answer: ComputeAnswer): void {
    if (!this.ended) this.events.onAnswer(answer);
  }
}
