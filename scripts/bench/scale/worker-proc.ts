/**
 * One simulated worker process of `bench-scale` (run inside its host's network namespace): the real TrainingWorker
 * with the benchmark's SimulatedCompute. Argument: a JSON WorkerProcArgs. Prints one JSON line with its CPU time
 * over the measured steps as soon as they are done (the run's shutdown may not reach it over a slow link: the
 * benchmark ends the process).
 */
import { silentLogger } from '../../../shared/common/logger.js';
import type { ModelKind } from '../../../shared/model/model-spec.js';
import { TrainingWorker } from '../../../worker/training-worker.js';
import { SIMULATED_DATASET, SimulatedCompute } from './simulated-compute.js';

export interface WorkerProcArgs {
  readonly connect: string;
  readonly name: string;
  readonly modelKind: ModelKind;
  readonly msPerSample: number;
  readonly measure: { readonly fromStep: number; readonly toStep: number };
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerProcArgs;
const worker = await TrainingWorker.start({ connect: args.connect, name: args.name, modelKind: args.modelKind, log: silentLogger(),
  security: { kind: 'plain' }, coordinatorTimeoutMs: 600_000,
  engine: { datasetFingerprint: SIMULATED_DATASET, start: (events) => Promise.resolve(new SimulatedCompute({ modelKind: args.modelKind,
    msPerSample: args.msPerSample, measure: args.measure,
    onMeasured: (cpuMs, steps) => {
      process.stdout.write(`${JSON.stringify({ event: 'worker-measured', name: args.name, cpuMs, steps })}\n`);
    } }, events)) } });
await worker.finished;
