import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../shared/common/atomic-file.js';
import { decodeContainer, encodeContainer } from '../shared/common/container.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { readTensorSections, tensorSections, type TensorEntry } from '../shared/common/tensor-sections.js';

/** A weights file is a container (shared/common/container.ts) of this kind: one float32 section per tensor. */
export const WEIGHTS_KIND = 'omniglot-ddp/weights';

interface Meta {
  readonly tensors: readonly TensorEntry[];
}

/** Writes `tensors` to `path` atomically. */
export async function writeWeightsFile(path: string, tensors: readonly NamedTensor[]): Promise<void> {
  const { entries, sections } = tensorSections(tensors);
  const meta: Meta = { tensors: entries };
  await writeFileAtomic(path, encodeContainer({ kind: WEIGHTS_KIND, meta, sections }));
}

/** Reads what writeWeightsFile wrote. @throws Error naming the file when it is damaged or not a weights file. */
export async function readWeightsFile(path: string): Promise<NamedTensor[]> {
  const corrupt = (why: string): Error => new Error(`weights file ${path} ${why}`);
  const container = decodeContainer(await readFile(path), WEIGHTS_KIND, corrupt);
  const meta = container.meta as Meta | null;
  if (typeof meta !== 'object' || meta === null || !Array.isArray(meta.tensors)) throw corrupt('lists no tensors');
  return readTensorSections(container, meta.tensors, '', corrupt);
}
