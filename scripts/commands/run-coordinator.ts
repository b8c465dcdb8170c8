import { Coordinator, type CoordinatorOptions } from '../../coordinator/coordinator.js';
import { DatasetServer } from '../../coordinator/dataset-server.js';
import { checkBind } from '../../coordinator/server-security.js';
import { withCheckpoints } from '../../coordinator/checkpoint-resume.js';
import { CheckpointStore } from '../../coordinator/checkpoint-store.js';
import { DdpError } from '../../shared/errors.js';
import type { EpochSummary } from '../../coordinator/training-state.js';
import type { ParsedOptions } from '../../shared/config/options.js';
import { loadOmniglot, type OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Logger } from '../../shared/logging/logger.js';
import { initialParams } from '../../shared/model/initial-params.js';
import { serverSecurityFrom } from '../../shared/security/security-options.js';
import { writeWeightsFile } from '../../shared/tensor/weights-file.js';
import { COORDINATOR_OPTIONS, DATA_OPTIONS } from './option-tables.js';
import { parseLossWeighting, parseLrSchedule, parseModelKind } from './parse-run-config.js';

export type CoordinatorValues = ParsedOptions<typeof COORDINATOR_OPTIONS & typeof DATA_OPTIONS>['values'];

/** Loads the dataset as the options say; the same call serves coordinator and worker so they agree. */
export function loadDataset(values: ParsedOptions<typeof DATA_OPTIONS>['values'], log: Logger): Promise<OmniglotData> {
  return loadOmniglot({
    ...(typeof values['data-dir'] === 'string' ? { dir: values['data-dir'] } : {}),
    ...(typeof values['cache-dir'] === 'string' ? { cacheDir: values['cache-dir'] } : {}),
    ...(typeof values.alphabets === 'number' ? { alphabets: values.alphabets } : {}),
    download: values.download === true,
    log,
  });
}

/** Checks the coordinator's flags before the dataset loads, so a bad one fails at once. @throws DdpError ERR_BAD_CONFIG. */
export function checkCoordinatorFlags(values: CoordinatorValues): void {
  const model = parseModelKind(String(values.model));
  parseLrSchedule(String(values['lr-schedule']));
  parseLossWeighting(model, String(values['loss-weighting']), String(values['loss-weights']));
  checkBind(String(values.bind), serverSecurityFrom(values));
}

/** Coordinator options from parsed flags. @throws DdpError ERR_BAD_CONFIG on a bad flag value. */
export function coordinatorOptionsFrom(values: CoordinatorValues, data: OmniglotData, log: Logger): CoordinatorOptions {
  const model = parseModelKind(String(values.model));
  const seed = Number(values.seed);
  return {
    bind: String(values.bind),
    dataset: { fingerprint: data.fingerprint, trainSize: data.train.size, testSize: data.test.size },
    modelKind: model,
    seed,
    epochs: Number(values.epochs),
    globalBatch: Number(values['batch-size']),
    sgd: { learningRate: Number(values.lr), momentum: Number(values.momentum), weightDecay: Number(values['weight-decay']),
      schedule: parseLrSchedule(String(values['lr-schedule'])) },
    lossWeighting: parseLossWeighting(model, String(values['loss-weighting']), String(values['loss-weights'])),
    augment: values.augment === true,
    minWorkers: Number(values['min-workers']),
    heartbeatIntervalMs: Number(values['heartbeat-ms']),
    workerTimeoutMs: Number(values['worker-timeout']) * 1000,
    maxWorkerFaults: 5,
    initialParams: initialParams(model, seed),
    security: serverSecurityFrom(values),
    datasetServer: new DatasetServer(data),
    log,
    ...saveWeightsOption(values['save-weights'], Number(values.epochs)),
  };
}

/** With --save-weights, an onEpoch that writes the weights once the last epoch is done. */
function saveWeightsOption(file: unknown, epochs: number): Pick<CoordinatorOptions, 'onEpoch'> {
  if (typeof file !== 'string' || file === '') return {};
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
  if (typeof dir !== 'string' || dir === '') {
    if (values.resume === true) throw new DdpError('ERR_BAD_CONFIG', '--resume needs --checkpoint-dir: the folder to resume from');
    return options;
  }
  const store = new CheckpointStore({ dir, keep: Number(values['checkpoint-keep']), log });
  return withCheckpoints(options, store, Number(values['checkpoint-every']), values.resume === true, log);
}

/** One readable line per epoch: test accuracy and loss per head, throughput. */
export function formatEpochLine(summary: EpochSummary, epochs: number): string {
  const heads = summary.test.map((h) => `${h.head} acc ${h.accuracy.toFixed(3)} loss ${h.meanLoss.toFixed(3)}`).join(' | ');
  const count = summary.test[0]?.count ?? 0;
  return `epoch ${summary.epoch + 1}/${epochs}  test (${count} images): ${heads}  |  ${summary.samplesPerSecond.toFixed(1)} samples/s, ${(summary.wallMs / 1000).toFixed(1)} s, ${summary.workers} workers`;
}

/** Runs a coordinator until the run ends or a signal stops it; resolves with the process exit code. */
export async function runCoordinator(options: CoordinatorOptions, out: NodeJS.WritableStream, onListening?: (endpoint: string) => void): Promise<number> {
  const coordinator = await Coordinator.start({
    ...options,
    onEpoch: async (summary, state) => {
      out.write(`${formatEpochLine(summary, options.epochs)}\n`);
      await options.onEpoch?.(summary, state);
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
    await coordinator.close(result.stopped ? 'coordinator stopped' : 'run finished');
    return 0;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/**
 * Everything `coordinator` and `train` do before the run: check the flags (before the slow dataset load), load the
 * dataset, and build the coordinator options with checkpointing and resume as the flags ask.
 */
export async function prepareCoordinator(values: CoordinatorValues, log: Logger): Promise<{ data: OmniglotData; options: CoordinatorOptions }> {
  checkCoordinatorFlags(values);
  const data = await loadDataset(values, log);
  const options = await applyCheckpointFlags(coordinatorOptionsFrom(values, data, log), values, log);
  return { data, options };
}
