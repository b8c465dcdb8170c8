import { hostname } from 'node:os';
import { isBackendChoice } from '../../shared/compute/backend.js';
import { DdpError } from '../../shared/errors.js';
import { clientSecurityFrom } from '../../shared/security/security-options.js';
import { watchParent } from '../../worker/parent-watch.js';
import { TrainingWorker } from '../../worker/training-worker.js';
import { defineCommand } from './command.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS, DATA_OPTIONS, WORKER_OPTIONS } from './option-tables.js';
import { parseModelKind } from './parse-run-config.js';
import { loadDataset } from './run-coordinator.js';

const TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COMPUTE_OPTIONS, ...WORKER_OPTIONS };
const SUMMARY = 'Run one worker: it connects to --connect, loads the same dataset, and computes gradients until the run ends.';

export const workerCommand = defineCommand({
  name: 'worker',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, log }) {
    const model = parseModelKind(String(values.model));
    const security = clientSecurityFrom(values);
    const choice = String(values.backend);
    if (!isBackendChoice(choice)) throw new DdpError('ERR_BAD_CONFIG', `--backend: unknown backend '${choice}'`);
    let worker: TrainingWorker | undefined;
    let orphaned = false;
    if (values['exit-with-parent'] === true) {
      // A worker of `train` has no run to rejoin once train is gone (even SIGKILLed): leave rather than wait forever.
      watchParent((how) => {
        orphaned = true;
        log.warn({ how }, 'parent process gone: stopping');
        void worker?.stop('parent process gone');
      });
    }
    const data = await loadDataset(values, log);
    if (orphaned) return 0;
    worker = await TrainingWorker.start({
      connect: String(values.connect),
      data,
      backend: choice,
      modelKind: model,
      name: typeof values.name === 'string' ? values.name : `${hostname()}:${process.pid}`,
      log,
      security,
      microBatch: Number(values['micro-batch']),
    });
    if (orphaned) await worker.stop('parent process gone');
    const leave = (signal: string) => () => void worker?.stop(`received ${signal}`);
    process.once('SIGINT', leave('SIGINT'));
    process.once('SIGTERM', leave('SIGTERM'));
    const exit = await worker.finished;
    if (exit.kind !== 'refused') return 0;
    process.stderr.write(`omniglot-ddp worker: ${exit.reason} [${exit.code}]\n`);
    return 3;
  },
});
