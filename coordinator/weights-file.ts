import { readFile, writeFile } from 'node:fs/promises';
import { bytesToFloat32, float32ToBytes } from '../shared/protocol/tensor-codec.js';
import { elementCount, type NamedTensor } from '../shared/common/named-tensor.js';

/** The JSON index beside a weights file: each tensor's name, shape and float offset in the raw file. */
interface WeightsIndex {
  readonly format: 'omniglot-ddp-weights-v1';
  readonly tensors: readonly { name: string; shape: readonly number[]; offset: number }[];
}

/** Writes `tensors` as raw little-endian float32 to `path`, and their names and shapes to `path`.json. */
export async function writeWeightsFile(path: string, tensors: readonly NamedTensor[]): Promise<void> {
  let offset = 0;
  const index: WeightsIndex = { format: 'omniglot-ddp-weights-v1', tensors: tensors.map((t) => {
    const entry = { name: t.name, shape: [...t.shape], offset };
    offset += t.data.length;
    return entry;
  }) };
  await writeFile(path, Buffer.concat(tensors.map((t) => float32ToBytes(t.data))));
  await writeFile(`${path}.json`, `${JSON.stringify(index, null, 1)}\n`);
}

/** Reads what writeWeightsFile wrote. @throws Error when the two files do not agree. */
export async function readWeightsFile(path: string): Promise<NamedTensor[]> {
  const index = JSON.parse(await readFile(`${path}.json`, 'utf8')) as WeightsIndex;
  const all = bytesToFloat32(await readFile(path));
  return index.tensors.map((t) => {
    const n = elementCount(t.shape);
    if (t.offset + n > all.length) throw new Error(`${path}: tensor '${t.name}' runs past the end of the file`);
    return { name: t.name, shape: [...t.shape], data: all.slice(t.offset, t.offset + n) };
  });
}
