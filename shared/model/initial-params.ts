import type { NamedTensor } from '../common/named-tensor.js';
import { elementCount } from '../common/named-tensor.js';
import { modelSpec, type ModelKind, type ParamSpec } from './model-spec.js';
import { mulberry32, streamSeed } from '../common/seeded-random.js';

/** Fan-in of the layer a parameter belongs to: every input of a weight's output unit. */
function fanIn(kernelShape: readonly number[]): number {
  // Dense kernels are [in, out]; conv kernels [kh, kw, in, out]: all but the last axis feed one output.
  return elementCount(kernelShape.slice(0, -1));
}

function kernelShapeOf(param: ParamSpec, params: readonly ParamSpec[]): readonly number[] {
  if (param.name.endsWith('.kernel')) return param.shape;
  const kernelName = param.name.replace(/\.bias$/, '.kernel');
  const kernel = params.find((p) => p.name === kernelName);
  if (kernel === undefined) throw new Error(`initialParams: no kernel ${kernelName} for bias ${param.name}`);
  return kernel.shape;
}

/**
 * PyTorch's default init for Conv2d and Linear: kaiming_uniform(a = sqrt 5) for weights, which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for biases. Pure JS, so identical on every machine and
 * backend for a given seed; each parameter draws from its own stream keyed by name.
 */
export function initialParams(kind: ModelKind, seed: number): NamedTensor[] {
  const params = modelSpec(kind).params;
  return params.map((param) => {
    const bound = 1 / Math.sqrt(fanIn(kernelShapeOf(param, params)));
    const next = mulberry32(streamSeed(seed, param.name));
    const data = new Float32Array(elementCount(param.shape));
    for (let i = 0; i < data.length; i++) data[i] = (2 * next() - 1) * bound;
    return { name: param.name, shape: [...param.shape], data };
  });
}
