import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel, SymbolicTensor, io } from '@tensorflow/tfjs';
import { ALPHABET_CLASSES, type HeadName } from './heads.js';
import type { TfModule } from '../compute/tf-module.js';
import type { NamedTensor } from '../common/named-tensor.js';
import { IMAGE_SIZE } from './batch.js';
import { ALPHABET_EMBEDDING, CONV_FILTERS, IMAGE_FEATURES, modelSpec, type ModelKind } from './model-spec.js';
import { checkParams } from './param-check.js';

/**
 * The course models as TensorFlow.js layers models, saved in the layers format (model.json + weights.bin) so that
 * `tf.loadLayersModel` reads them in Node or a browser. The graph is the one of forward.ts: conv 3x3 'same' ->
 * max-pool 2 -> ELU -> flatten (NHWC, as forward.ts reshapes) -> dense 128 -> per-head dense with softmax; the
 * two-input model adds a one-hot alphabet input -> dense 8 -> ELU, concatenated to the image features.
 */

/** Layer name of each of our parameters' owners: `<layer>.kernel` / `<layer>.bias`. */
const LAYER_OF: Readonly<Record<string, string>> = {
  'image.conv': 'image_conv',
  'image.dense': 'image_dense',
  alphabet: 'alphabet',
  character: 'character',
  alphabetInput: 'alphabet_input_dense',
};

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

/** Builds the layers model of `kind` with our weights set. The caller disposes it. */
export function buildLayersModel(tf: TfModule, kind: ModelKind, params: readonly NamedTensor[]): LayersModel {
  const spec = modelSpec(kind);
  const byName = checkParams(spec, params);
  const image = tf.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, 1], name: 'image' });
  let x = tf.layers.conv2d({ filters: CONV_FILTERS, kernelSize: 3, padding: 'same', name: LAYER_OF['image.conv']! }).apply(image) as SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'image_pool' }).apply(x) as SymbolicTensor;
  x = tf.layers.elu({ name: 'image_elu' }).apply(x) as SymbolicTensor;
  x = tf.layers.flatten({ name: 'image_flatten' }).apply(x) as SymbolicTensor;
  const features = tf.layers.dense({ units: IMAGE_FEATURES, name: LAYER_OF['image.dense']! }).apply(x) as SymbolicTensor;
  const head = (name: HeadName, units: number, from: SymbolicTensor): SymbolicTensor =>
    tf.layers.dense({ units, activation: 'softmax', name: LAYER_OF[name]! }).apply(from) as SymbolicTensor;
  let model: LayersModel;
  if (kind === 'two-output') {
    model = tf.model({ inputs: image, outputs: [head('alphabet', ALPHABET_CLASSES, features), head('character', shapeOf(spec, 'character.bias'), features)], name: 'omniglot_two_output' });
  } else {
    const alphabet = tf.input({ shape: [ALPHABET_CLASSES], name: 'alphabet_one_hot' });
    const embedded = tf.layers.elu({ name: 'alphabet_input_elu' }).apply(
      tf.layers.dense({ units: ALPHABET_EMBEDDING, name: LAYER_OF['alphabetInput']! }).apply(alphabet) as SymbolicTensor) as SymbolicTensor;
    const joined = tf.layers.concatenate({ name: 'joined' }).apply([features, embedded]) as SymbolicTensor;
    model = tf.model({ inputs: [image, alphabet], outputs: head('character', shapeOf(spec, 'character.bias'), joined), name: 'omniglot_two_input' });
  }
  for (const [prefix, layerName] of Object.entries(LAYER_OF)) {
    const kernel = byName.get(`${prefix}.kernel`);
    const bias = byName.get(`${prefix}.bias`);
    if (kernel === undefined || bias === undefined) continue;
    const values = [tf.tensor(kernel.data, [...kernel.shape], 'float32'), tf.tensor(bias.data, [...bias.shape], 'float32')];
    model.getLayer(layerName).setWeights(values);
    tf.dispose(values);
  }
  return model;
}

function shapeOf(spec: ReturnType<typeof modelSpec>, name: string): number {
  const p = spec.params.find((q) => q.name === name);
  if (p === undefined || p.shape[0] === undefined) throw new Error(`model spec has no ${name}`);
  return p.shape[0];
}

/**
 * Writes `dir`/model.json and `dir`/weights.bin (created if missing). Each file is written beside and renamed into
 * place, so a reader never sees half a model.
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
      await writeAtomically(path.join(dir, 'weights.bin'), weights);
      await writeAtomically(path.join(dir, 'model.json'), JSON.stringify(json));
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
  const outputs = tf.tidy(() => {
    const x = tf.tensor4d(images, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    const inputs = metadata.modelKind === 'two-input'
      ? [x, tf.oneHot(tf.tensor1d(alphabet ?? new Int32Array(n), 'int32'), ALPHABET_CLASSES).toFloat()]
      : x;
    const out = model.predict(inputs);
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync<'float32'>());
  });
  return new Map(metadata.heads.map((h, i) => [h, Float32Array.from(outputs[i] ?? [])]));
}

function joinWeightData(tf: TfModule, data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}
