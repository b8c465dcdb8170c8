import type { NamedTensor } from '../common/named-tensor.js';
import type { FactoredLayer } from './factored-layers.js';
import type { FactorProduct } from './factor-product.js';
import { sgdStepOf, type SgdOptions, type SgdState } from './sgd-step.js';
import type { ReducedStep } from './factor-reduction.js';

export interface StepInputs extends ReducedStep {
  readonly samples: number;
  readonly sgd: SgdOptions;
}

/**
 * One optimizer step from a reduced update: the coordinator (for the weights of record) and every replica run this
 * same function, so they compute the same bits. A factored kernel's mean gradient is x^T . dy (the SIMD product on
 * its own memory) divided by `samples` and rounded to float32, exactly as a dense mean is, in the same pass as SGD
 * as central SGD takes it. `inPlace`: write over `params` and `state` (a replica's own copy) instead of new arrays.
 * @throws RangeError naming the parameter whose mean gradient or factors are missing or misshapen.
 */
export function applyStepUpdate(params: readonly NamedTensor[], state: SgdState, step: StepInputs, layers: readonly FactoredLayer[],
  product: FactorProduct, inPlace = false): { readonly params: NamedTensor[]; readonly state: SgdState } {
  const means = new Map(step.meanGrads.map((g) => [g.name, g.data]));
  const factors = new Map(step.factors.map((f) => [f.name, f.data]));
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const layer = layers.find((l) => l.kernel === p.name);
    const g = layer ? factorSum(layer, factors, step.samples, product) : means.get(p.name);
    if (g === undefined || g.length !== p.data.length) throw new RangeError(`update: no mean gradient of the right length for '${p.name}'`);
    const into = inPlace ? { weights: p.data, velocity: state[i] } : undefined;
    const { weights, velocity } = sgdStepOf(p.data, g, state[i], step.sgd, into, layer ? step.samples : 1);
    if (velocity) nextState.push(velocity);
    return inPlace ? p as NamedTensor : { name: p.name, shape: p.shape, data: weights };
  });
  return { params: next, state: nextState };
}

/** x^T . dy of a factored layer: its gradient sum (a view, valid until the product's next call). */
function factorSum(layer: FactoredLayer, factors: ReadonlyMap<string, Float32Array>, samples: number, product: FactorProduct): Float32Array {
  const x = factors.get(layer.x);
  const dy = factors.get(layer.dy);
  if (!x || !dy) throw new RangeError(`update: factors of '${layer.kernel}' missing`);
  return product.product(x, dy, { samples, in: layer.in, out: layer.out });
}
