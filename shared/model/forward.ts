import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { TfModule } from '../compute/tf-module.js';
import type { HeadName } from './heads.js';
import type { InputName } from './model-inputs.js';
import { headOutput, type GraphNode, type ModelDefinition } from './model-graph.js';

/** Parameters by name, as tensors owned by the runner. */
export type ParamTensors = ReadonlyMap<string, Tensor>;

function param<R extends Tensor>(params: ParamTensors, name: string): R {
  const t = params.get(name);
  if (t === undefined) throw new Error(`model: parameter ${name} is not set`);
  return t as R;
}

/**
 * Hooks into chosen dense layers (by parameter prefix), for sufficient factors: a tensor added to the layer's
 * pre-activation (zeros, so the function is unchanged and the loss gradient w.r.t. it is dy), and the layer's input.
 */
export interface DenseTaps {
  readonly add: ReadonlyMap<string, Tensor>;
  readonly input: (param: string, x: Tensor) => void;
}

/** One node's output from its inputs' outputs, with plain tf ops on the parameter tensors (differentiable). */
function apply(tf: TfModule, node: GraphNode, params: ParamTensors, value: (n: GraphNode) => Tensor, inputs: ReadonlyMap<InputName, Tensor>,
  taps: DenseTaps | undefined): Tensor {
  switch (node.op) {
    case 'input': {
      const t = inputs.get(node.input);
      if (t === undefined) throw new Error(`model: input ${node.input} not given`);
      return t;
    }
    case 'conv2d':
      // Not tf.fused.conv2d: its gradient always computes the input gradient too, which the first layer never needs.
      return tf.add(tf.conv2d(value(node.from) as Tensor4D, param<Tensor4D>(params, `${node.param}.kernel`), 1, 'same'),
        param<Tensor1D>(params, `${node.param}.bias`));
    case 'maxPool':
      return tf.maxPool(value(node.from) as Tensor4D, node.size, node.size, 'valid');
    case 'elu':
      return tf.elu(value(node.from));
    case 'flatten':
      return tf.reshape(value(node.from), [-1, ...node.shape]);
    case 'dense': {
      const x = value(node.from) as Tensor2D;
      const z = tf.add(tf.matMul(x, param<Tensor2D>(params, `${node.param}.kernel`)), param<Tensor1D>(params, `${node.param}.bias`));
      const tap = taps?.add.get(node.param);
      if (tap === undefined) return z;
      taps?.input(node.param, x);
      return tf.add(z, tap);
    }
    case 'concat':
      return tf.concat(node.from.map(value), 1);
  }
}

/** Logits per head of the model, [size, classes], in the model's head order. Call inside tf.tidy. */
export function forwardLogits(tf: TfModule, model: ModelDefinition, params: ParamTensors,
  inputs: ReadonlyMap<InputName, Tensor>, taps?: DenseTaps): Map<HeadName, Tensor2D> {
  const values = new Map<GraphNode, Tensor>();
  const value = (n: GraphNode): Tensor => {
    const v = values.get(n);
    if (v === undefined) throw new Error(`model: layer ${n.layer} read before it was computed`);
    return v;
  };
  for (const node of model.nodes) values.set(node, apply(tf, node, params, value, inputs, taps));
  return new Map(model.heads.map((head) => [head, value(headOutput(model, head)) as Tensor2D]));
}
