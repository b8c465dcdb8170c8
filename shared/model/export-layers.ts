import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel, SymbolicTensor, io } from '@tensorflow/tfjs';
import { writeFileAtomic } from '../common/atomic-file.js';
import type { NamedTensor } from '../common/named-tensor.js';
import type { TfModule } from '../compute/tf-module.js';
import { IMAGE_SIZE } from './batch.js';
import type { HeadName } from './heads.js';
import { headOutput, type GraphNode } from './model-graph.js';
import { inputTensor, MODEL_INPUTS, type InputName } from './model-inputs.js';
import { isModelKind, modelSpec, type ModelKind } from './model-spec.js';
import { checkParams } from './param-check.js';

/**
 * A model as a TensorFlow.js layers model, saved in the layers format (model.json + weights.bin) so that
 * `tf.loadLayersModel` reads it in Node or a browser. The graph is read off the model's definition (kinds/), node
 * for node the one forward.ts computes; each head's dense layer ends in a softmax, so the outputs are probabilities.
 */

/** What evaluate and predict need besides the weights; stored as the model's user-defined metadata. */
export interface ExportMetadata {
  readonly modelKind: ModelKind;
  /** Output i of the model is head heads[i]; probabilities (softmax), not logits. */
  readonly heads: readonly HeadName[];
  /** Index -> alphabet name, index -> character name (from the dataset's label lists). */
  readonly alphabets: readonly string[];
  readonly characters: readonly string[];
  readonly epoch?: number;
}

/** Does the exported model of `metadata` take the alphabet label as an input? */
export function takesAlphabet(metadata: ExportMetadata): boolean {
  return isModelKind(metadata.modelKind) && modelSpec(metadata.modelKind).inputs.includes('alphabet');
}

function layerOf(tf: TfModule, node: GraphNode, value: (n: GraphNode) => SymbolicTensor): SymbolicTensor {
  const name = node.layer;
  switch (node.op) {
    case 'input':
      return tf.input({ shape: [...node.shape], name });
    case 'conv2d':
      return tf.layers.conv2d({ filters: node.shape[2] ?? 0, kernelSize: node.kernelSize, padding: 'same', name }).apply(value(node.from)) as SymbolicTensor;
    case 'maxPool':
      return tf.layers.maxPooling2d({ poolSize: node.size, strides: node.size, padding: 'valid', name }).apply(value(node.from)) as SymbolicTensor;
    case 'elu':
      return tf.layers.elu({ name }).apply(value(node.from)) as SymbolicTensor;
    case 'flatten':
      return tf.layers.flatten({ name }).apply(value(node.from)) as SymbolicTensor;
    case 'dense':
      return tf.layers.dense({ units: node.shape[0] ?? 0, name, ...(node.head === undefined ? {} : { activation: 'softmax' as const }) })
        .apply(value(node.from)) as SymbolicTensor;
    case 'concat':
      return tf.layers.concatenate({ name }).apply(node.from.map(value)) as SymbolicTensor;
  }
}

/** Builds the layers model of `kind` with our weights set. The caller disposes it. */
export function buildLayersModel(tf: TfModule, kind: ModelKind, params: readonly NamedTensor[]): LayersModel {
  const spec = modelSpec(kind);
  const byName = checkParams(spec, params);
  const values = new Map<GraphNode, SymbolicTensor>();
  const value = (n: GraphNode): SymbolicTensor => {
    const v = values.get(n);
    if (v === undefined) throw new Error(`export: layer ${n.layer} read before it was built`);
    return v;
  };
  for (const node of spec.nodes) values.set(node, layerOf(tf, node, value));
  const inputs = spec.nodes.filter((n) => n.op === 'input').map(value);
  const outputs = spec.heads.map((head) => value(headOutput(spec, head)));
  const model = tf.model({ inputs: inputs.length === 1 ? inputs[0]! : inputs, outputs: outputs.length === 1 ? outputs[0]! : outputs,
    name: spec.exportName });
  for (const node of spec.nodes) {
    if (node.op !== 'conv2d' && node.op !== 'dense') continue;
    const kernel = byName.get(`${node.param}.kernel`);
    const bias = byName.get(`${node.param}.bias`);
    if (kernel === undefined || bias === undefined) throw new Error(`export: parameters of ${node.param} missing`);
    const weights = [tf.tensor(kernel.data, [...kernel.shape], 'float32'), tf.tensor(bias.data, [...bias.shape], 'float32')];
    model.getLayer(node.layer).setWeights(weights);
    tf.dispose(weights);
  }
  return model;
}

/**
 * Writes `dir`/model.json and `dir`/weights.bin (created if missing). Each file is written atomically, so a reader
 * never sees half a model.
 */
export async function exportLayersModel(tf: TfModule, kind: ModelKind, params: readonly NamedTensor[], dir: string,
  metadata: ExportMetadata): Promise<void> {
  const model = buildLayersModel(tf, kind, params);
  try {
    await mkdir(dir, { recursive: true });
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      const weights = Buffer.from(joinWeightData(tf, artifacts.weightData));
      const json: io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: 'layers-model',
        generatedBy: artifacts.generatedBy ?? 'omniglot-ddp',
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: metadata as unknown as Record<string, object>,
      };
      await writeFileAtomic(path.join(dir, 'weights.bin'), [weights]);
      await writeFileAtomic(path.join(dir, 'model.json'), [Buffer.from(JSON.stringify(json))]);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }));
  } finally {
    model.dispose();
  }
}

/** Loads what exportLayersModel wrote, through tf.loadLayersModel, plus its metadata. */
export async function loadExportedModel(tf: TfModule, dir: string): Promise<{ model: LayersModel; metadata: ExportMetadata }> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as io.ModelJSON;
  const manifest = json.weightsManifest;
  const buffers = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(path.join(dir, p)))));
  const weightData = Buffer.concat(buffers);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: manifest.flatMap((group) => group.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  }));
  return { model, metadata: json.userDefinedMetadata as unknown as ExportMetadata };
}

/**
 * Probabilities per head for `images` (n x 64 x 64, ink 1) and, for the two-input model, the alphabet labels.
 * Row-major [n, classes] per head.
 */
export function predictExported(tf: TfModule, model: LayersModel, metadata: ExportMetadata, images: Float32Array,
  alphabet?: Int32Array): Map<HeadName, Float32Array> {
  const n = images.length / (IMAGE_SIZE * IMAGE_SIZE);
  const arrays = { images, alphabet: alphabet ?? new Int32Array(n) };
  const outputs = tf.tidy(() => {
    // Fed by input-layer name, so that the file itself says which inputs it takes.
    const inputs = model.inputNames.map((layer) => inputTensor(tf, inputNamed(layer), n, arrays));
    const out = model.predict(inputs.length === 1 ? inputs[0]! : inputs);
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync<'float32'>());
  });
  return new Map(metadata.heads.map((h, i) => [h, Float32Array.from(outputs[i] ?? [])]));
}

function inputNamed(layer: string): InputName {
  const found = (Object.keys(MODEL_INPUTS) as InputName[]).find((name) => MODEL_INPUTS[name].layer === layer);
  if (found === undefined) throw new Error(`exported model: unknown input layer ${layer}`);
  return found;
}

function joinWeightData(tf: TfModule, data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}
