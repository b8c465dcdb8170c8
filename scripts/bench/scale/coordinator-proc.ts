/**
 * The coordinator process of `bench-scale` (run inside the coordinator's network namespace): the real Coordinator,
 * exchange chosen by name, over a dataset of indices only (the workers simulate compute). Argument: a JSON
 * CoordinatorProcArgs. Prints JSON lines: listening, the end of the warmup steps, and the measured figures.
 */
import { Coordinator } from '../../../coordinator/coordinator.js';
import { LossWeighting } from '../../../coordinator/loss-weighting.js';
import type { ExchangeDesign } from '../../../coordinator/step-exchange/designs.js';
import { silentLogger } from '../../../shared/common/logger.js';
import { initialParams } from '../../../shared/model/initial-params.js';
import { modelSpec, type ModelKind } from '../../../shared/model/model-spec.js';
import { SIMULATED_DATASET } from './simulated-compute.js';

export interface CoordinatorProcArgs {
  readonly bind: string;
  readonly workers: number;
  readonly globalBatch: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly exchange: ExchangeDesign;
  readonly modelKind: ModelKind;
}

const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const a = JSON.parse(process.argv[2] ?? '{}') as CoordinatorProcArgs;
let from: { at: number; cpu: NodeJS.CpuUsage } | undefined;
let result: { stepMs: number; cpuMsPerStep: number } | undefined;
const coordinator = await Coordinator.start({
  bind: a.bind, modelKind: a.modelKind, seed: 1, epochs: 1, globalBatch: a.globalBatch, exchange: a.exchange,
  // No test split: the run is the timed steps alone.
  dataset: { fingerprint: SIMULATED_DATASET, trainSize: a.globalBatch * a.totalSteps, testSize: 0 },
  sgd: { learningRate: 0.01, momentum: 0, weightDecay: 0, schedule: { kind: 'constant' } },
  lossWeighting: LossWeighting.create('fixed', new Map(modelSpec(a.modelKind).heads.map((h) => [h, 1] as const))),
  augment: false, minWorkers: a.workers, heartbeatIntervalMs: 1000, workerTimeoutMs: 600_000, maxWorkerFaults: 3,
  initialParams: initialParams(a.modelKind, 1), security: { kind: 'plain', insecure: true }, log: silentLogger(),
  onStep: (info) => {
    if (info.globalStep === a.warmupSteps) {
      from = { at: performance.now(), cpu: process.cpuUsage() };
      say({ event: 'measuring' });
    } else if (info.globalStep === a.totalSteps && from) {
      const cpu = process.cpuUsage(from.cpu);
      const steps = a.totalSteps - a.warmupSteps;
      result = { stepMs: (performance.now() - from.at) / steps, cpuMsPerStep: (cpu.user + cpu.system) / 1000 / steps };
      say({ event: 'measured' });
    }
  },
});
say({ event: 'listening', endpoint: coordinator.endpoint });
await coordinator.train();
await coordinator.close();
say({ event: 'done', ...result });
