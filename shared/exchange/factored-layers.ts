import { elementCount } from '../common/named-tensor.js';
import type { ModelDefinition } from '../model/model-graph.js';
import type { ParamSpec } from '../model/model-spec.js';

/**
 * A dense layer whose gradient crosses the wire as sufficient factors (Poseidon): over K samples its kernel's
 * gradient sum is x^T . dy, so K x (in + out) numbers describe it exactly instead of in x out.
 */
export interface FactoredLayer {
  /** The kernel parameter, e.g. 'image.dense.kernel'. */
  readonly kernel: string;
  /** The graph's parameter prefix of the layer, e.g. 'image.dense'. */
  readonly param: string;
  readonly in: number;
  readonly out: number;
  /** Tensor names of the factors: the layer's input rows and the loss gradient at its pre-activation. */
  readonly x: string;
  readonly dy: string;
}

/** Kernels smaller than this stay dense: their bytes do not matter and factoring costs a product on every replica. */
const MIN_FACTORED_KERNEL = 1 << 20;

/** The layers of a model that the factored exchange factors: its large hidden dense layers (not the heads). */
export function factoredLayers(model: ModelDefinition): FactoredLayer[] {
  return model.nodes.flatMap((node) => {
    if (node.op !== 'dense' || node.head !== undefined) return [];
    const kernel = model.params.find((p) => p.name === `${node.param}.kernel`);
    const [inDim, outDim] = kernel?.shape ?? [];
    if (!kernel || inDim === undefined || outDim === undefined || elementCount(kernel.shape) < MIN_FACTORED_KERNEL || outDim % 4 !== 0) return [];
    return [{ kernel: kernel.name, param: node.param, in: inDim, out: outDim, x: `${kernel.name}:x`, dy: `${kernel.name}:dy` }];
  });
}

/** The parameters whose gradients still travel dense: all but the factored kernels, in parameter order. */
export function denseParams(params: readonly ParamSpec[], layers: readonly FactoredLayer[]): ParamSpec[] {
  return params.filter((p) => !layers.some((l) => l.kernel === p.name));
}

/** The factor tensors a shard of `samples` samples must carry, in order: x then dy of each layer. */
export function factorSpecs(layers: readonly FactoredLayer[], samples: number): ParamSpec[] {
  return layers.flatMap((l) => [{ name: l.x, shape: [samples, l.in] }, { name: l.dy, shape: [samples, l.out] }]);
}

/** Bytes of one step's factors at `samples` samples against the dense kernels': where factoring pays. */
export function factorBytes(layers: readonly FactoredLayer[], samples: number): { factored: number; dense: number } {
  return { factored: layers.reduce((n, l) => n + 4 * samples * (l.in + l.out), 0), dense: layers.reduce((n, l) => n + 4 * l.in * l.out, 0) };
}
