import { Coordinator, type CoordinatorOptions } from '../../coordinator/coordinator.js';
import { DatasetServer } from '../../coordinator/dataset-server.js';
import { checkBind } from '../../coordinator/server-security.js';
import { withCheckpoints } from '../../coordinator/checkpoint-resume.js';
import { CheckpointStore } from '../../coordinator/checkpoint-store.js';
import { DdpError } from '../../shared/common/errors.js';
import { observeConfigFrom } from '../../coordinator/observe/observe-flags.js';
import type { EpochSummary, TrainingState } from '../../coordinator/training-state.js';
import type { ParsedOptions } from './options.js';
import { loadOmniglot, type OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Logger } from '../../shared/common/logger.js';
import { initialParams } from '../../shared/model/initial-params.js';
import { serverSecurityFrom } from '../../shared/security/security-options.js';
import { writeWeightsFile } from '../../coordinator/weights-file.js';
import { COORDINATOR_OPTIONS, DATA_OPTIONS } from './option-tables.js';
import { globalBatchFrom, parseLossWeighting, parseLrScaling, parseLrSchedule, parseTargets } from './parse-run-config.js';

export type CoordinatorValues = ParsedOptions<typeof COORDINATOR_OPTIONS & typeof DATA_OPTIONS>['values'];

/** Loads the dataset as the options say; the same call serves coordinator and worker so they agree. */
export function loadDataset(values: Omit<ParsedOptions<typeof DATA_OPTIONS>['values'], 'model'>, log: Logger): Promise<OmniglotData> {
  return loadOmniglot({
    ...(values['data-dir'] !== undefined ? { dir: values['data-dir'] } : {}),
    ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
    ...(values.alphabets !== undefined ? { alphabets: values.alphabets } : {}),
    download: values.download,
    log,
  });
}

/** Checks the coordinator's flags before the dataset loads, so a bad one fails at once. @throws DdpError ERR_BAD_CONFIG. */
export function checkCoordinatorFlags(values: CoordinatorValues): void {
  parseLrSchedule(values['lr-schedule']);
  parseLrScaling(values);
  parseTargets(values.model, values.target);
  parseLossWeighting(values.model, values['loss-weighting'], values['loss-weights']);
  checkBind(values.bind, serverSecurityFrom(values));
  observeConfigFrom(values);
}

/**
 * Coordinator options from parsed flags; `workers` (default --min-workers) multiplies --batch-per-worker.
 * @throws DdpError ERR_BAD_CONFIG on a bad flag value.
 */
export function coordinatorOptionsFrom(values: CoordinatorValues, data: OmniglotData, log: Logger, workers = values['min-workers']): CoordinatorOptions {
  const model = values.model;
  const globalBatch = globalBatchFrom(values, workers);
  if (globalBatch > data.train.size) {
    const flag = values['batch-per-worker'] === undefined ? '--batch-size' : `--batch-per-worker (x ${workers} workers)`;
    throw new DdpError('ERR_BAD_CONFIG', `${flag}: ${globalBatch} is more than the ${data.train.size} images of the training split`);
  }
  return {
    bind: values.bind,
    dataset: { fingerprint: data.fingerprint, trainSize: data.train.size, testSize: data.test.size },
    modelKind: model,
    seed: values.seed,
    epochs: values.epochs,
    globalBatch,
    sgd: { learningRate: values.lr, momentum: values.momentum, weightDecay: values['weight-decay'],
      schedule: parseLrSchedule(values['lr-schedule']), scaling: parseLrScaling(values) },
    lossWeighting: parseLossWeighting(model, values['loss-weighting'], values['loss-weights']),
    augment: values.augment,
    exchange: values.exchange,
    minWorkers: values['min-workers'],
    heartbeatIntervalMs: values['heartbeat-ms'],
    workerTimeoutMs: values['worker-timeout'] * 1000,
    maxWorkerFaults: 5,
    initialParams: initialParams(model, values.seed),
    security: serverSecurityFrom(values),
    datasetServer: new DatasetServer(data),
    log,
    ...saveWeightsOption(values['save-weights'], values.epochs),
  };
}

/** With --save-weights, an onEpoch that writes the weights once the last epoch is done. */
function saveWeightsOption(file: string | undefined, epochs: number): Pick<CoordinatorOptions, 'onEpoch'> {
  if (file === undefined || file === '') return {};
  return { onEpoch: async (_summary, state) => {
    if (state.epoch >= epochs) await writeWeightsFile(file, state.params);
  } };
}

/**
 * Adds checkpointing from --checkpoint-dir/--checkpoint-every/--checkpoint-keep, and with --resume the state of the
 * newest valid checkpoint. Options pass through unchanged without --checkpoint-dir.
 * @throws DdpError ERR_BAD_CONFIG for --resume without --checkpoint-dir, or a checkpoint of another configuration.
 */
export async function applyCheckpointFlags(options: CoordinatorOptions, values: CoordinatorValues, log: Logger): Promise<CoordinatorOptions> {
  const dir = values['checkpoint-dir'];
  if (dir === undefined || dir === '') {
    if (values.resume) throw new DdpError('ERR_BAD_CONFIG', '--resume needs --checkpoint-dir: the folder to resume from');
    return options;
  }
  const store = new CheckpointStore({ dir, keep: values['checkpoint-keep'], log });
  return withCheckpoints(options, store, values['checkpoint-every'], values.resume, log);
}

/** One readable line per epoch: test accuracy and loss per head, throughput. */
export function formatEpochLine(summary: EpochSummary, epochs: number): string {
  const heads = summary.test.map((h) => `${h.head} acc ${h.accuracy.toFixed(3)} loss ${h.meanLoss.toFixed(3)}`).join(' | ');
  const count = summary.test[0]?.count ?? 0;
  return `epoch ${summary.epoch + 1}/${epochs}  test (${count} images): ${heads}  |  ${summary.samplesPerSecond.toFixed(1)} samples/s, ${(summary.wallMs / 1000).toFixed(1)} s, ${summary.workers} workers`;
}

/**
 * Runs a coordinator until the run ends, a signal stops it, or something fails; resolves with the process exit code.
 * A stop (SIGINT, SIGTERM) tells the workers the run is to be resumed, so workers started on their own wait to rejoin;
 * the end of the run, or a failure, dismisses them. A failure after an epoch (e.g. --save-weights on a full disk) still
 * checkpoints that epoch when it can, then closes the socket and rethrows, so the process exits instead of hanging.
 */
export async function runCoordinator(options: CoordinatorOptions, out: NodeJS.WritableStream, onListening?: (endpoint: string) => void): Promise<number> {
  const coordinator = await Coordinator.start({
    ...options,
    onEpoch: async (summary, state) => {
      out.write(`${formatEpochLine(summary, options.epochs)}\n`);
      try {
        await options.onEpoch?.(summary, state);
      } catch (error) {
        await saveAfterFailure(options, state);
        throw error;
      }
    },
  });
  const stop = (signal: string) => () => coordinator.stop(`received ${signal}`);
  const onInt = stop('SIGINT');
  const onTerm = stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  onListening?.(coordinator.endpoint);
  try {
    const result = await coordinator.train();
    await coordinator.close(result.stopped ? 'coordinator stopped; the run is to be resumed' : 'run finished', result.stopped);
    return 0;
  } catch (error) {
    await coordinator.close(`coordinator failed: ${(error as Error).message}`, false);
    throw error;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

async function saveAfterFailure(options: CoordinatorOptions, state: TrainingState): Promise<void> {
  if (!options.checkpoint) return;
  try {
    await options.checkpoint.save(state);
  } catch (error) {
    options.log.error({ err: error }, 'could not save a checkpoint after the failure either');
  }
}

/**
 * Everything `coordinator` and `train` do before the run: check the flags (before the slow dataset load), load the
 * dataset, and build the coordinator options with checkpointing and resume as the flags ask.
 */
export async function prepareCoordinator(values: CoordinatorValues, log: Logger, workers?: number): Promise<{ data: OmniglotData; options: CoordinatorOptions }> {
  checkCoordinatorFlags(values);
  const data = await loadDataset(values, log);
  const options = await applyCheckpointFlags(coordinatorOptionsFrom(values, data, log, workers), values, log);
  return { data, options };
}
