import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientSecurityFrom } from '../../shared/security/security-options.js';
import { watchParent } from '../../worker/parent-watch.js';
import { TrainingWorker, type WorkerExit, type WorkerOptions } from '../../worker/training-worker.js';
import { defineCommand } from './command.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS, DATA_OPTIONS, WORKER_OPTIONS } from './option-tables.js';
import { loadWorkerDataset } from './worker-dataset.js';

export const TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COMPUTE_OPTIONS, ...WORKER_OPTIONS };
const SUMMARY = 'Run one worker: it connects to --connect, loads the same dataset, and computes gradients until the run ends.';
/** Lets a stopping coordinator's socket close before this worker knocks again, so the hello reaches its successor. */
const REJOIN_PAUSE_MS = 1000;

/** The process exit code for how the worker ended; refusals and giving up are one line on stderr. */
function exitCode(exit: WorkerExit): number {
  if (exit.kind === 'refused') {
    process.stderr.write(`omniglot-ddp worker: ${exit.reason} [${exit.code}]\n`);
    return 3;
  }
  if (exit.kind === 'gave-up') {
    process.stderr.write(`omniglot-ddp worker: ${exit.reason} (--rejoin-timeout)\n`);
    return 4;
  }
  return 0;
}

export const workerCommand = defineCommand({
  name: 'worker',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, log }) {
    const security = clientSecurityFrom(values);
    let worker: TrainingWorker | undefined;
    let orphaned = false;
    if (values['exit-with-parent']) {
      // A worker of `train` has no run to rejoin once train is gone (even SIGKILLed): leave rather than wait forever.
      watchParent((how) => {
        orphaned = true;
        log.warn({ how }, 'parent process gone: stopping');
        void worker?.stop('parent process gone');
      });
    }
    const data = await loadWorkerDataset(values, values.connect, security, log);
    if (orphaned) return 0;
    const options: WorkerOptions = { connect: values.connect, data, backend: values.backend, modelKind: values.model,
      name: values.name ?? `${hostname()}:${process.pid}`, log, security, microBatch: values['micro-batch'] };
    worker = await TrainingWorker.start(options);
    if (orphaned) await worker.stop('parent process gone');
    let signalled = false;
    const leave = (signal: string) => () => {
      signalled = true;
      void worker?.stop(`received ${signal}`);
    };
    process.once('SIGINT', leave('SIGINT'));
    process.once('SIGTERM', leave('SIGTERM'));
    let exit = await worker.finished;
    // A coordinator stopped to be resumed (SIGTERM) will be back: wait for it rather than leave the run short.
    const rejoinMs = values['rejoin-timeout'] * 1000;
    while (exit.kind === 'shutdown' && exit.resumable && rejoinMs > 0 && !signalled) {
      log.info({ rejoinTimeoutS: values['rejoin-timeout'] }, 'waiting for the coordinator to resume the run');
      await sleep(REJOIN_PAUSE_MS);
      if (signalled || orphaned) break;
      worker = await TrainingWorker.start({ ...options, joinTimeoutMs: rejoinMs });
      exit = await worker.finished;
    }
    return exitCode(exit);
  },
});
