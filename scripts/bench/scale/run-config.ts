import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExchangeDesign } from '../../../coordinator/step-exchange/designs.js';
import type { ModelKind } from '../../../shared/model/model-spec.js';
import type { CoordinatorProcArgs } from './coordinator-proc.js';
import type { LinkBytes, SwitchedCluster } from './switched-cluster.js';
import type { WorkerProcArgs } from './worker-proc.js';

const COORDINATOR = fileURLToPath(new URL('./coordinator-proc.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker-proc.js', import.meta.url));
const PORT = 5555;

export interface ConfigRun {
  readonly workers: number;
  readonly perWorkerBatch: number;
  /** The worker's blocking time per step in real (dilated) milliseconds: compute plus the two one-way delays. */
  readonly workerStepMs: number;
  readonly warmupSteps: number;
  readonly measuredSteps: number;
  readonly exchange: ExchangeDesign;
  readonly modelKind: ModelKind;
  readonly timeoutMs: number;
}

/** Real (dilated) figures of one configuration, per measured step. */
export interface ConfigMeasurement {
  readonly stepMs: number;
  readonly coordinatorCpuMs: number;
  /** Summed over the workers, scaled up from those that reported in time. */
  readonly workersCpuMs: number;
  /** The busiest link direction's bytes. */
  readonly busiestLinkBytes: number;
  readonly busiestLink: string;
}

function lines(child: ChildProcess, onLine: (event: Record<string, unknown>) => void): void {
  if (!child.stdout) return;
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not one of ours (a library's banner): ignored.
    }
  });
}

/**
 * Runs one configuration on the cluster: a coordinator process in the coordinator's namespace, one worker process
 * in each of the first `workers` worker namespaces, and the link counters read at the start and end of the
 * measured steps. @throws Error when a process fails or the run passes its time limit.
 */
export async function runConfig(cluster: SwitchedCluster, c: ConfigRun): Promise<ConfigMeasurement> {
  const total = c.warmupSteps + c.measuredSteps;
  const children: ChildProcess[] = [];
  const inNs = (ns: string, script: string, args: object): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    return child;
  };
  let counters: { from?: Promise<ReadonlyMap<string, LinkBytes>>; to?: Promise<ReadonlyMap<string, LinkBytes>> } = {};
  const workerCpu: number[] = [];
  try {
    return await new Promise<ConfigMeasurement>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`configuration of ${c.workers} workers passed its ${c.timeoutMs / 1000} s limit`)), c.timeoutMs);
      const coordinatorArgs: CoordinatorProcArgs = { bind: `tcp://${cluster.coordinator.address}:${PORT}`, workers: c.workers,
        globalBatch: c.perWorkerBatch * c.workers, warmupSteps: c.warmupSteps, totalSteps: total, exchange: c.exchange, modelKind: c.modelKind };
      const coordinator = inNs(cluster.coordinator.ns, COORDINATOR, coordinatorArgs);
      let done: Record<string, unknown> | undefined;
      let settled = false;
      const finish = (force = false): void => {
        // Workers report their CPU just before the last step; a report still missing is waited for a moment only.
        if (settled || !done || (!force && workerCpu.length < c.workers) || !counters.from || !counters.to) return;
        settled = true;
        clearTimeout(timer);
        const d = done;
        void Promise.all([counters.from, counters.to]).then(([from, to]) => {
          let busiest = { bytes: 0, link: '' };
          for (const [ns, end] of to) {
            const start = from.get(ns) ?? { up: 0, down: 0 };
            for (const [dir, bytes] of [['up', end.up - start.up], ['down', end.down - start.down]] as const) {
              if (bytes > busiest.bytes) busiest = { bytes, link: `${ns} ${dir}` };
            }
          }
          resolve({ stepMs: Number(d['stepMs']), coordinatorCpuMs: Number(d['cpuMsPerStep']),
            workersCpuMs: workerCpu.length === 0 ? 0 : (workerCpu.reduce((s, x) => s + x, 0) / workerCpu.length) * c.workers, busiestLinkBytes: busiest.bytes / c.measuredSteps, busiestLink: busiest.link });
        }, reject);
      };
      lines(coordinator, (e) => {
        if (e['event'] === 'listening') {
          for (const [k, w] of cluster.workers.slice(0, c.workers).entries()) {
            const args: WorkerProcArgs = { connect: coordinatorArgs.bind, name: `sim-${k + 1}`, modelKind: c.modelKind,
              msPerSample: c.workerStepMs / c.perWorkerBatch, measure: { fromStep: c.warmupSteps, toStep: total - 1 } };
            const child = inNs(w.ns, WORKER, args);
            lines(child, (we) => {
              if (we['event'] === 'worker-measured' && typeof we['cpuMs'] === 'number' && typeof we['steps'] === 'number' && we['steps'] > 0) {
                workerCpu.push(we['cpuMs'] / we['steps']);
                finish();
              }
            });
          }
        } else if (e['event'] === 'measuring') {
          counters = { from: cluster.counters() };
        } else if (e['event'] === 'measured') {
          counters = { ...counters, to: cluster.counters() };
        } else if (e['event'] === 'done') {
          done = e;
          finish();
          setTimeout(() => finish(true), 2000);
        }
      });
      coordinator.on('exit', (code) => {
        if (code !== 0) reject(new Error(`the coordinator process exited with ${code}`));
      });
    });
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
