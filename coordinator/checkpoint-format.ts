import { decodeContainer, encodeContainer } from '../shared/common/container.js';
import { DdpError } from '../shared/common/errors.js';
import { readTensorSections, tensorSections, type TensorEntry } from '../shared/common/tensor-sections.js';
import { isModelKind } from '../shared/model/model-spec.js';
import type { TrainingState } from './training-state.js';

/**
 * A checkpoint is a container file (shared/common/container.ts) of kind `omniglot-ddp/checkpoint`: its meta is the
 * training state without its tensors, plus the entries of the parameters (sections `params/<name>`) and of the
 * optimizer state (sections `sgd/<name>`, one per parameter, or none).
 */
export const CHECKPOINT_KIND = 'omniglot-ddp/checkpoint';

type Meta = Omit<TrainingState, 'params' | 'sgdState'> & { readonly params: readonly TensorEntry[]; readonly sgd: readonly TensorEntry[] };

const corrupt = (why: string): DdpError => new DdpError('ERR_CHECKPOINT_CORRUPT', `checkpoint ${why}`);

/** The file's bytes, as chunks to write in order. */
export function encodeCheckpoint(state: TrainingState): Uint8Array[] {
  const { params, sgdState, ...rest } = state;
  const p = tensorSections(params, 'params/');
  const sgd = tensorSections(sgdState.map((data, i) => ({ name: params[i]?.name ?? `#${i}`, shape: params[i]?.shape ?? [data.length], data })), 'sgd/');
  const meta: Meta = { ...rest, params: p.entries, sgd: sgd.entries };
  return encodeContainer({ kind: CHECKPOINT_KIND, meta, sections: [...p.sections, ...sgd.sections] });
}

/**
 * Reads a checkpoint back.
 * @throws DdpError ERR_CHECKPOINT_CORRUPT when the file is truncated, fails its checksum, or does not describe a
 *   training state (wrong magic, unknown version, tensors that do not add up).
 */
export function decodeCheckpoint(bytes: Uint8Array): TrainingState {
  const container = decodeContainer(bytes, CHECKPOINT_KIND, corrupt);
  const meta = container.meta as Meta;
  if (typeof meta !== 'object' || meta === null || !isModelKind(String(meta.modelKind)) || typeof meta.datasetFingerprint !== 'string'
    || !Array.isArray(meta.params) || !Array.isArray(meta.sgd) || !Number.isInteger(meta.epoch)
    || !Number.isInteger(meta.stepInEpoch) || !Number.isInteger(meta.globalStep)) {
    throw corrupt('header lacks the training state fields');
  }
  const { params: paramEntries, sgd: sgdEntries, ...rest } = meta;
  const params = readTensorSections(container, paramEntries, 'params/', corrupt);
  const sgdState = readTensorSections(container, sgdEntries, 'sgd/', corrupt).map((t) => t.data);
  return { ...rest, params, sgdState };
}
