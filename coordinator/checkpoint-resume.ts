import { DdpError } from '../shared/common/errors.js';
import type { Logger } from '../shared/common/logger.js';
import { checkParams } from '../shared/model/param-check.js';
import { modelSpec } from '../shared/model/model-spec.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { CoordinatorOptions } from './coordinator.js';
import { LossWeighting } from './loss-weighting.js';
import type { TrainingState } from './training-state.js';

/**
 * Coordinator options that save to `store` every `everySteps` steps (and at each epoch end and on stop), and, when
 * `resume` is set, continue from the store's newest valid checkpoint. With `resume` and no valid checkpoint the run
 * starts fresh with a warning, so a supervisor can always restart with --resume.
 * @throws DdpError ERR_BAD_CONFIG when the checkpoint was made with another model, dataset, seed, global batch or
 *   loss weighting than the options ask for.
 */
export async function withCheckpoints(options: CoordinatorOptions, store: CheckpointStore, everySteps: number,
  resume: boolean, log: Logger): Promise<CoordinatorOptions> {
  const checkpointed: CoordinatorOptions = { ...options, checkpoint: { everySteps, save: async (s) => {
    await store.save(s);
  } } };
  if (!resume) return checkpointed;
  const found = await store.loadNewestValid();
  if (!found) {
    log.warn({ dir: store.dir }, 'no valid checkpoint to resume from: starting a fresh run');
    return checkpointed;
  }
  checkResumable(found.state, options, found.path);
  log.info({ path: found.path, epoch: found.state.epoch, stepInEpoch: found.state.stepInEpoch,
    globalStep: found.state.globalStep }, 'resuming from checkpoint');
  return { ...checkpointed, resumeFrom: found.state, lossWeighting: LossWeighting.restore(found.state.lossWeighting) };
}

/** @throws DdpError ERR_BAD_CONFIG naming the first setting where the checkpoint and the options differ. */
export function checkResumable(state: TrainingState, options: CoordinatorOptions, file: string): void {
  const differ = (what: string, saved: unknown, asked: unknown): never => {
    throw new DdpError('ERR_BAD_CONFIG', `cannot resume from ${file}: it was made with ${what} ${String(saved)}, this run asks for ${String(asked)}`);
  };
  if (state.modelKind !== options.modelKind) differ('--model', state.modelKind, options.modelKind);
  if (state.datasetFingerprint !== options.dataset.fingerprint) {
    differ('the dataset (--data-dir, --alphabets) of fingerprint', state.datasetFingerprint.slice(0, 16), options.dataset.fingerprint.slice(0, 16));
  }
  if (state.seed !== options.seed) differ('--seed', state.seed, options.seed);
  if (state.globalBatch !== options.globalBatch) differ('--batch-size', state.globalBatch, options.globalBatch);
  if (state.lossWeighting.strategy !== options.lossWeighting.strategy) {
    differ('--loss-weighting', state.lossWeighting.strategy, options.lossWeighting.strategy);
  }
  try {
    checkParams(modelSpec(state.modelKind), state.params);
  } catch (error) {
    throw new DdpError('ERR_BAD_CONFIG', `cannot resume from ${file}: ${(error as Error).message}`);
  }
}
