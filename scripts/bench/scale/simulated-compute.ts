import { elementCount, type NamedTensor } from '../../../shared/common/named-tensor.js';
import { emptyHeadStat } from '../../../shared/model/head-stats.js';
import type { HeadStat } from '../../../shared/model/heads.js';
import { modelSpec, type ModelKind } from '../../../shared/model/model-spec.js';
import type { StepAssignment } from '../../../shared/protocol/messages.js';
import type { ShardCompute } from '../../../worker/shard-compute.js';

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
 * BENCHMARK AID, never used in training: a worker compute that blocks for a calibrated time per sample (as the real
 * wasm compute blocks the worker's thread) and answers with zero gradients of the model's real shapes, so the real
 * worker, codec, sockets and coordinator move messages of the real sizes. Heads report the samples, with no loss.
 */
export class SimulatedCompute implements ShardCompute {
  readonly backendName = 'simulated (bench-scale)';
  readonly datasetFingerprint = SIMULATED_DATASET;
  private readonly zeros: readonly NamedTensor[];
  private readonly heads: readonly HeadStat[];
  private readonly cell = new Int32Array(new SharedArrayBuffer(4));
  private cpuFrom: NodeJS.CpuUsage | undefined;

  constructor(private readonly options: SimulatedComputeOptions) {
    const spec = modelSpec(options.modelKind);
    this.zeros = spec.params.map((p) => ({ name: p.name, shape: [...p.shape], data: new Float32Array(elementCount(p.shape)) }));
    this.heads = spec.heads.map(emptyHeadStat);
  }

  setParams(): void {
    // The weights arrive and are decoded by the real worker; nothing computes with them here.
  }

  gradients(task: StepAssignment): Promise<{ grads: readonly NamedTensor[]; heads: readonly HeadStat[] }> {
    const { fromStep, toStep } = this.options.measure;
    if (task.stepId === fromStep) this.cpuFrom = process.cpuUsage();
    if (task.stepId === toStep && this.cpuFrom) {
      const used = process.cpuUsage(this.cpuFrom);
      this.options.onMeasured((used.user + used.system) / 1000, toStep - fromStep);
    }
    // Blocks the thread without using a core: Atomics.wait on a cell nobody notifies times out after the delay.
    Atomics.wait(this.cell, 0, 0, this.options.msPerSample * task.sampleIndices.length);
    const n = task.sampleIndices.length;
    return Promise.resolve({ grads: this.zeros, heads: this.heads.map((h) => ({ ...h, count: n })) });
  }

  evaluate(): Promise<{ heads: readonly HeadStat[] }> {
    return Promise.resolve({ heads: this.heads });
  }

  dispose(): void {}
}

