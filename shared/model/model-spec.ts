import type { ModelDefinition } from './model-graph.js';
import { MODEL_REGISTRY } from './model-registry.js';

export type ModelKind = (typeof MODEL_REGISTRY)[number]['kind'];
export const MODEL_KINDS: readonly ModelKind[] = MODEL_REGISTRY.map((m) => m.kind);

export function isModelKind(s: string): s is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(s);
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** What the rest of the program needs of a model: its kind, heads (output order) and parameters (wire order). */
export type ModelSpec = ModelDefinition<ModelKind>;

const BY_KIND: ReadonlyMap<string, ModelSpec> = new Map(MODEL_REGISTRY.map((m) => [m.kind, m]));

/** The definition of `kind` (shared/model/kinds/). Layout is NHWC; dense kernels are [in, out], conv kernels HWIO. */
export function modelSpec(kind: ModelKind): ModelSpec {
  const spec = BY_KIND.get(kind);
  if (spec === undefined) throw new Error(`unknown model kind ${kind}`);
  return spec;
}
