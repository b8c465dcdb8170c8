import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DdpError } from '../../shared/common/errors.js';
import { ephemeralCurve } from '../../shared/security/ephemeral-keys.js';
import { defineCommand } from './command.js';
import { openRunReport } from './run-report.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS, COORDINATOR_OPTIONS, DATA_OPTIONS, TRAIN_OPTIONS } from './option-tables.js';
import { prepareCoordinator, runCoordinator } from './run-coordinator.js';
import { OBSERVE_OPTIONS } from './observe-options.js';

const TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COMPUTE_OPTIONS, ...COORDINATOR_OPTIONS, ...TRAIN_OPTIONS, ...OBSERVE_OPTIONS,
  bind: { ...COORDINATOR_OPTIONS.bind, default: 'tcp://127.0.0.1:*' } };
const SUMMARY = 'Train on this machine: a coordinator in this process and --workers local worker processes.';
const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/** Flags a worker must share with the coordinator, passed through to each child. */
const SHARED_WITH_WORKERS = ['data-dir', 'cache-dir', 'alphabets', 'download', 'model', 'backend', 'micro-batch'] as const;

export const trainCommand = defineCommand({
  name: 'train',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, sources, log }) {
    // Decode (or read the cache) once here, before the workers start, so they all find the cache warm.
    const { data, options } = await prepareCoordinator(values, log, values.workers);
    if (options.security.kind === 'curve' && !values.curve) {
      throw new DdpError('ERR_BAD_CONFIG', 'train starts its own workers: use --curve for keys made for this run (key files and --allow-list are for `coordinator` and `worker`)');
    }
    const curve = values.curve ? ephemeralCurve(values.workers) : undefined;
    const report = await openRunReport({ command: 'train', values, sources, data, options, log, out: process.stdout });
    const children: ChildProcess[] = [];
    const workerArgs = SHARED_WITH_WORKERS.flatMap((name) => {
      const v = values[name];
      if (typeof v === 'boolean') return [v ? `--${name}` : `--no-${name}`];
      return v === undefined ? [] : [`--${name}=${v}`];
    });
    const startWorkers = (endpoint: string): void => {
      for (let i = 0; i < values.workers; i++) {
        // These workers stop with this process: none waits to rejoin a coordinator that is not coming back, and the
        // IPC channel is how a worker learns that train died, even by SIGKILL (--exit-with-parent).
        const child = spawn(process.execPath, [CLI, 'worker', `--connect=${endpoint}`, `--name=local-${i + 1}`, '--rejoin-timeout=0',
          `--log-level=${values['log-level'] === 'info' ? 'warn' : values['log-level']}`, '--exit-with-parent', ...workerArgs,
          ...(curve?.workerArgs(i) ?? [])],
        { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        child.on('exit', (code, signal) => {
          if (code !== 0) log.warn({ worker: `local-${i + 1}`, code, signal }, 'local worker process exited');
        });
        children.push(child);
      }
    };
    try {
      return await runCoordinator(report.wrap({ ...options, ...(curve ? { security: curve.server } : {}), minWorkers: Math.min(options.minWorkers, values.workers) }),
        process.stdout, startWorkers);
    } finally {
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null
        ? new Promise((resolve) => { c.once('exit', resolve); setTimeout(() => { c.kill('SIGKILL'); }, 5000).unref(); })
        : undefined)));
      curve?.cleanup();
      await report.close();
    }
  },
});
