import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Coordinator } from '../../coordinator/coordinator.js';
import { createLogger } from '../../shared/common/logger.js';
import { writeWeightsFile } from '../../coordinator/weights-file.js';
import { coordinatorOptions, type DatasetSizes } from './cluster.js';
import type { LogLine } from './log-capture.js';
import { spawnNode, type CliProcess } from './processes.js';

/**
 * A coordinator alone in its own process (no workers, no images), for attacks that could kill the process that
 * receives them, and to measure its memory. Started by startCoordinatorProcess; argv[2] is a
 * CoordinatorProcessConfig as JSON. Logs JSON lines to stderr: 'coordinator listening' (with `endpoint`), one
 * 'step done' per step, and at the end 'child done' with `globalStep` and `peakRssKb` (VmHWM); the final weights
 * go to `weightsOut`.
 */
export interface CoordinatorProcessConfig {
  readonly data: DatasetSizes;
  readonly workers: number;
  readonly globalBatch: number;
  readonly weightsOut: string;
}

/** This process's peak resident set size (VmHWM), in kB. */
export function peakRssKb(pid: number | 'self' = 'self'): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN);
}

/** Starts the child and resolves once it listens, with the endpoint it bound. */
export async function startCoordinatorProcess(config: CoordinatorProcessConfig): Promise<{ child: CliProcess; endpoint: string }> {
  const child = spawnNode(fileURLToPath(import.meta.url), [JSON.stringify(config)]);
  const listening = await lineWhileAlive(child, (l) => l.msg === 'coordinator listening', 60_000);
  return { child, endpoint: String(listening['endpoint']) };
}

/** The first log line matching `match`; rejects at once, with the exit code, if the process ends first. */
export function lineWhileAlive(child: CliProcess, match: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine> {
  return Promise.race([child.log.waitFor(match, timeoutMs),
    child.exited.then((code) => { throw new Error(`coordinator process exited (${code}); last lines:\n${
      child.log.lines.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`); })]);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as CoordinatorProcessConfig;
  const log = createLogger({ level: 'info' });
  const coordinator = await Coordinator.start(coordinatorOptions({ data: config.data, workers: config.workers,
    globalBatch: config.globalBatch, log, overrides: { onStep: (info) => log.info({ globalStep: info.globalStep }, 'step done') } }));
  const result = await coordinator.train();
  await coordinator.close();
  await writeWeightsFile(config.weightsOut, result.state.params);
  log.info({ globalStep: result.state.globalStep, stopped: result.stopped, peakRssKb: peakRssKb() }, 'child done');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  });
}
