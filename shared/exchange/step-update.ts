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
 * its own memory) divided by `samples` and rounded to float32, exactly as a dense mean is; then SGD as central SGD
 * takes it. Returns new arrays; the inputs are not modified.
 * @throws RangeError naming the parameter whose mean gradient or factors are missing or misshapen.
 */
export function applyStepUpdate(params: readonly NamedTensor[], state: SgdState, step: StepInputs, layers: readonly FactoredLayer[],
  product: FactorProduct): { readonly params: NamedTensor[]; readonly state: SgdState } {
  const means = new Map(step.meanGrads.map((g) => [g.name, g.data]));
  const factors = new Map(step.factors.map((f) => [f.name, f.data]));
  const nextState: Float32Array[] = [];
  const next = params.map((p, i) => {
    const layer = layers.find((l) => l.kernel === p.name);
    const g = layer ? factoredMean(layer, factors, step.samples, product) : means.get(p.name);
    if (g === undefined || g.length !== p.data.length) throw new RangeError(`update: no mean gradient of the right length for '${p.name}'`);
    const { weights, velocity } = sgdStepOf(p.data, g, state[i], step.sgd);
    if (velocity) nextState.push(velocity);
    return { name: p.name, shape: p.shape, data: weights };
  });
  return { params: next, state: nextState };
}

function factoredMean(layer: FactoredLayer, factors: ReadonlyMap<string, Float32Array>, samples: number, product: FactorProduct): Float32Array {
  const x = factors.get(layer.x);
  const dy = factors.get(layer.dy);
  if (!x || !dy) throw new RangeError(`update: factors of '${layer.kernel}' missing`);
  const sum = product.product(x, dy, { samples, in: layer.in, out: layer.out });
  const mean = new Float32Array(sum.length);
  // A Float32Array store rounds the float64 quotient, as meanOfSums does for dense sums.
  for (let k = 0; k < mean.length; k++) mean[k] = sum[k]! / samples;
  return mean;
}
