import type { Agreement, HeadName, HeadStat } from '../shared/model/heads.js';
import type { ModelSpec, ParamSpec } from '../shared/model/model-spec.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { boundedText, describeList } from '../shared/common/bounded-text.js';

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

/**
 * Every head of the model reported exactly once, each counting every sample of the task: a missing head is refused,
 * never summed as if it were zero.
 */
export function headsProblem(heads: readonly HeadStat[], expected: readonly HeadName[], samples: number): string | undefined {
  const missing = expected.filter((head) => !heads.some((h) => h.head === head));
  if (missing.length > 0) return `head stats for ${missing.map((h) => `'${h}'`).join(', ')} missing (the model has ${expected.join(', ')})`;
  if (heads.length !== expected.length) return `${heads.length} head stats, the model has ${expected.length}`;
  for (const h of heads) {
    if (!expected.includes(h.head)) return `unexpected head '${h.head}'`;
    if (h.count !== samples || h.correct > h.count) return `head '${h.head}' counts ${h.count}/${h.correct} for ${samples} samples`;
  }
  return undefined;
}

/**
 * An evaluation answer has everything the model's evaluation needs: the heads (as headsProblem), and the agreement
 * counts exactly when the model computes them, counting every sample. An answer without them would skew the epoch's
 * agreement rate towards the workers that sent theirs.
 */
export function evalResultProblem(result: { readonly heads: readonly HeadStat[]; readonly agreement?: Agreement; readonly sampleCount: number },
  spec: ModelSpec): string | undefined {
  const heads = headsProblem(result.heads, spec.heads, result.sampleCount);
  if (heads !== undefined) return heads;
  const a = result.agreement;
  if (!spec.agreement) return a ? `agreement given, but model '${spec.kind}' has none` : undefined;
  if (!a) return `agreement missing: model '${spec.kind}' reports it with every evaluation`;
  if (a.count !== result.sampleCount || a.agree > a.count || a.impliedCorrect > a.count) {
    return `agreement counts ${a.agree}/${a.impliedCorrect} of ${a.count} for ${result.sampleCount} samples`;
  }
  return undefined;
}
