import type { NamedTensor } from '../common/named-tensor.js';
import { elementCount } from '../common/named-tensor.js';
import type { ModelSpec } from './model-spec.js';

/**
 * Returns the given params keyed by name after checking them against the spec: every param present once, with
 * the spec's shape and a matching data length. Throws an Error naming the offending param.
 */
export function checkParams(spec: ModelSpec, params: readonly NamedTensor[]): Map<string, NamedTensor> {
  const byName = new Map<string, NamedTensor>();
  for (const p of params) {
    if (byName.has(p.name)) throw new Error(`params: ${p.name} given twice`);
    byName.set(p.name, p);
  }
  for (const want of spec.params) {
    const got = byName.get(want.name);
    if (got === undefined) throw new Error(`params: ${want.name} missing for model ${spec.kind}`);
    const sameShape = got.shape.length === want.shape.length && got.shape.every((d, i) => d === want.shape[i]);
    if (!sameShape) throw new Error(`params: ${want.name} has shape [${got.shape.join(',')}], expected [${want.shape.join(',')}]`);
    if (got.data.length !== elementCount(want.shape)) {
      throw new Error(`params: ${want.name} has ${got.data.length} values, expected ${elementCount(want.shape)}`);
    }
  }
  if (byName.size !== spec.params.length) {
    const extra = [...byName.keys()].filter((name) => !spec.params.some((p) => p.name === name));
    throw new Error(`params: ${extra.join(', ')} not in model ${spec.kind}`);
  }
  return byName;
}
