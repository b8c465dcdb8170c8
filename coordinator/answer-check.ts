import type { HeadName, HeadStat } from '../shared/heads.js';
import { boundedText, describeList } from '../shared/logging/bounded-text.js';
import type { ParamSpec } from '../shared/model/model-spec.js';
import type { NamedTensor } from '../shared/tensor/named-tensor.js';

/**
 * Why a set of gradients must not reach the weights, or undefined when they may: the names, order and shapes must
 * be the model's, and every value finite. The byte lengths were already checked against the shapes when decoding.
 */
export function gradientProblem(grads: readonly NamedTensor[], params: readonly ParamSpec[]): string | undefined {
  if (grads.length !== params.length) return `${grads.length} gradient tensors, the model has ${params.length}`;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]!;
    const p = params[i]!;
    if (g.name !== p.name) return `gradient ${i} is named '${boundedText(g.name, 60)}', expected '${p.name}'`;
    if (g.shape.length !== p.shape.length || g.shape.some((d, k) => d !== p.shape[k])) {
      return `gradient '${p.name}' has shape ${describeList(g.shape)}, expected ${describeList(p.shape)}`;
    }
    const data = g.data;
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k]!)) return `gradient '${p.name}' holds a non-finite value (${data[k]}) at ${k}`;
    }
  }
  return undefined;
}

/** Every head of the model reported, each counting every sample of the task. */
export function headsProblem(heads: readonly HeadStat[], expected: readonly HeadName[], samples: number): string | undefined {
  if (heads.length !== expected.length) return `${heads.length} head stats, the model has ${expected.length}`;
  for (const h of heads) {
    if (!expected.includes(h.head)) return `unexpected head '${h.head}'`;
    if (h.count !== samples || h.correct > h.count) return `head '${h.head}' counts ${h.count}/${h.correct} for ${samples} samples`;
  }
  return undefined;
}
