import { bytesToFloat32, float32ToBytes } from './float32-bytes.js';
import type { DecodedContainer, Section } from './container.js';
import { requireSection } from './container.js';
import { elementCount, type NamedTensor } from './named-tensor.js';

/** How a file's index lists a float32 tensor stored in section `<prefix><name>`. */
export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Float32 tensors as container sections named `<prefix><name>`, plus the entries that describe them. */
export function tensorSections(tensors: readonly NamedTensor[], prefix = ''): { entries: TensorEntry[]; sections: Section[] } {
  return {
    entries: tensors.map((t) => ({ name: t.name, shape: [...t.shape] })),
    sections: tensors.map((t) => ({ name: `${prefix}${t.name}`, bytes: float32ToBytes(t.data) })),
  };
}

/** Reads back what tensorSections stored, each section checked against its entry's shape. */
export function readTensorSections(container: DecodedContainer, entries: readonly TensorEntry[], prefix: string,
  corrupt: (why: string) => Error): NamedTensor[] {
  return entries.map((e) => {
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw corrupt(`tensor ${e.name} has an invalid shape`);
    const bytes = requireSection(container, `${prefix}${e.name}`, elementCount(e.shape) * 4, corrupt);
    return { name: e.name, shape: [...e.shape], data: bytesToFloat32(bytes) };
  });
}
