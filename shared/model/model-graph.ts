import { HEAD_CLASSES, type HeadName } from './heads.js';
import { MODEL_INPUTS, type InputName } from './model-inputs.js';
import type { ParamSpec } from './model-spec.js';

/**
 * A model as a small graph of layers, written once per model kind (shared/model/kinds/). Everything else is read
 * off it: the parameter list (names, shapes, order), the forward pass used for training (forward.ts) and the tfjs
 * layers graph used for export (export-layers.ts). Shapes are per sample, without the batch axis; layout is NHWC.
 */
interface NodeBase {
  /** Per-sample output shape. */
  readonly shape: readonly number[];
  /** Layer name in the exported layers model. */
  readonly layer: string;
}

export type GraphNode =
  | NodeBase & { readonly op: 'input'; readonly input: InputName }
  /** 'same' padding, stride 1, then + bias. Params `<param>.kernel` [k, k, in, filters] (HWIO) and `<param>.bias`. */
  | NodeBase & { readonly op: 'conv2d'; readonly from: GraphNode; readonly param: string; readonly kernelSize: number }
  /** 'valid' max-pool with stride = size. */
  | NodeBase & { readonly op: 'maxPool'; readonly from: GraphNode; readonly size: number }
  | NodeBase & { readonly op: 'elu'; readonly from: GraphNode }
  /** Flattens in NHWC order (h, w, c), as tfjs' Flatten layer does. */
  | NodeBase & { readonly op: 'flatten'; readonly from: GraphNode }
  /** x @ kernel + bias: `<param>.kernel` [in, units], `<param>.bias` [units]. `head` marks an output (softmax on export). */
  | NodeBase & { readonly op: 'dense'; readonly from: GraphNode; readonly param: string; readonly head?: HeadName }
  /** Joins along the feature axis. */
  | NodeBase & { readonly op: 'concat'; readonly from: readonly GraphNode[] };

export interface ModelDefinition<K extends string = string> {
  readonly kind: K;
  /** Name of the exported layers model. */
  readonly exportName: string;
  /** Inputs in the order the exported model takes them. */
  readonly inputs: readonly InputName[];
  /** Output heads in the order the model returns them. */
  readonly heads: readonly HeadName[];
  /**
   * Whether an evaluation reports Agreement (the character head's implied alphabet against the alphabet head): true
   * for a model with both heads. The coordinator then requires it in every evaluation answer.
   */
  readonly agreement: boolean;
  /** Parameters in the fixed order used on the wire and in checkpoints: the order the layers were declared. */
  readonly params: readonly ParamSpec[];
  /** Every node, each after the nodes it reads. */
  readonly nodes: readonly GraphNode[];
  /** The dense node producing each head's logits. */
  readonly outputs: ReadonlyMap<HeadName, GraphNode & { op: 'dense' }>;
}

/** The builder a model kind's `build` function declares its layers with. Nodes are recorded in call order. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly params: ParamSpec[] = [];
  readonly outputs = new Map<HeadName, GraphNode & { op: 'dense' }>();
  readonly inputs: InputName[] = [];

  input(input: InputName): GraphNode {
    this.inputs.push(input);
    return this.add({ op: 'input', input, shape: MODEL_INPUTS[input].shape, layer: MODEL_INPUTS[input].layer });
  }

  conv2d(from: GraphNode, o: { readonly param: string; readonly layer: string; readonly filters: number; readonly kernelSize: number }): GraphNode {
    const [h, w, channels] = spatial(from, 'conv2d');
    this.addParams(o.param, [o.kernelSize, o.kernelSize, channels, o.filters], o.filters);
    return this.add({ op: 'conv2d', from, param: o.param, kernelSize: o.kernelSize, layer: o.layer, shape: [h, w, o.filters] });
  }

  maxPool(from: GraphNode, o: { readonly layer: string; readonly size: number }): GraphNode {
    const [h, w, channels] = spatial(from, 'maxPool');
    return this.add({ op: 'maxPool', from, size: o.size, layer: o.layer, shape: [Math.floor(h / o.size), Math.floor(w / o.size), channels] });
  }

  elu(from: GraphNode, o: { readonly layer: string }): GraphNode {
    return this.add({ op: 'elu', from, layer: o.layer, shape: from.shape });
  }

  flatten(from: GraphNode, o: { readonly layer: string }): GraphNode {
    return this.add({ op: 'flatten', from, layer: o.layer, shape: [from.shape.reduce((n, d) => n * d, 1)] });
  }

  dense(from: GraphNode, o: { readonly param: string; readonly layer: string; readonly units: number }): GraphNode {
    this.addParams(o.param, [features(from, 'dense'), o.units], o.units);
    return this.add({ op: 'dense', from, param: o.param, layer: o.layer, shape: [o.units] });
  }

  concat(from: readonly GraphNode[], o: { readonly layer: string }): GraphNode {
    return this.add({ op: 'concat', from, layer: o.layer, shape: [from.reduce((n, f) => n + features(f, 'concat'), 0)] });
  }

  /** A dense layer with one unit per class of `head`, named after the head (params `<head>.kernel`, `<head>.bias`). */
  head(head: HeadName, from: GraphNode): void {
    if (this.outputs.has(head)) throw new Error(`model graph: head ${head} declared twice`);
    const units = HEAD_CLASSES[head];
    this.addParams(head, [features(from, 'head'), units], units);
    const node = { op: 'dense' as const, from, param: head, head, layer: head, shape: [units] };
    this.add(node);
    this.outputs.set(head, node);
  }

  private add<N extends GraphNode>(node: N): N {
    if (this.nodes.some((n) => n.layer === node.layer)) throw new Error(`model graph: layer name ${node.layer} used twice`);
    this.nodes.push(node);
    return node;
  }

  private addParams(prefix: string, kernelShape: readonly number[], units: number): void {
    if (this.params.some((p) => p.name === `${prefix}.kernel`)) throw new Error(`model graph: parameters ${prefix}.* declared twice`);
    this.params.push({ name: `${prefix}.kernel`, shape: kernelShape }, { name: `${prefix}.bias`, shape: [units] });
  }
}

/** Runs a kind's `build` once and freezes what it declared into the model's definition. */
export function defineModel<K extends string>(kind: K, exportName: string, build: (g: GraphBuilder) => void): ModelDefinition<K> {
  const g = new GraphBuilder();
  build(g);
  if (g.outputs.size === 0) throw new Error(`model ${kind}: no head declared`);
  const heads = [...g.outputs.keys()];
  return { kind, exportName, inputs: g.inputs, heads, agreement: heads.includes('alphabet') && heads.includes('character'), params: g.params, nodes: g.nodes, outputs: g.outputs };
}

/** The dense node that produces `head`'s logits. */
export function headOutput(model: ModelDefinition, head: HeadName): GraphNode {
  const node = model.outputs.get(head);
  if (node === undefined) throw new Error(`model ${model.kind}: no output for head ${head}`);
  return node;
}

function spatial(node: GraphNode, op: string): [number, number, number] {
  const [h, w, c] = node.shape;
  if (node.shape.length !== 3 || h === undefined || w === undefined || c === undefined) {
    throw new Error(`model graph: ${op} needs an [h, w, c] input, ${node.layer} gives [${node.shape.join(',')}]`);
  }
  return [h, w, c];
}

function features(node: GraphNode, op: string): number {
  const [n] = node.shape;
  if (node.shape.length !== 1 || n === undefined) throw new Error(`model graph: ${op} needs a flat input, ${node.layer} gives [${node.shape.join(',')}]`);
  return n;
}
