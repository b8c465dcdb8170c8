import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { ALPHABET_CLASSES, type HeadName } from './heads.js';
import type { TfModule } from '../compute/tf-module.js';
import { IMAGE_SIZE, type Batch } from './batch.js';
import { FLAT_FEATURES, type ModelKind } from './model-spec.js';

/** Parameters by name, as tensors owned by the runner. */
export type ParamTensors = ReadonlyMap<string, Tensor>;

function param<R extends Tensor>(params: ParamTensors, name: string): R {
  const t = params.get(name);
  if (t === undefined) throw new Error(`model: parameter ${name} is not set`);
  return t as R;
}

function dense(tf: TfModule, x: Tensor2D, params: ParamTensors, prefix: string): Tensor2D {
  return tf.add(tf.matMul(x, param<Tensor2D>(params, `${prefix}.kernel`)), param<Tensor1D>(params, `${prefix}.bias`));
}

/** Conv(3x3 same) -> MaxPool(2) -> ELU -> Flatten (NHWC order) -> Dense 128, no activation: as the course. */
function imageLayer(tf: TfModule, images: Tensor4D, params: ParamTensors): Tensor2D {
  // Not tf.fused.conv2d: its gradient always computes the input gradient too, which the first layer never needs.
  const conv = tf.add(
    tf.conv2d(images, param<Tensor4D>(params, 'image.conv.kernel'), 1, 'same'),
    param<Tensor1D>(params, 'image.conv.bias'),
  ) as Tensor4D;
  const pooled = tf.maxPool(conv, 2, 2, 'valid');
  const flat = tf.reshape(tf.elu(pooled), [-1, FLAT_FEATURES]) as Tensor2D;
  return dense(tf, flat, params, 'image.dense');
}

export function imagesTensor(tf: TfModule, batch: Batch): Tensor4D {
  return tf.tensor4d(batch.images, [batch.size, IMAGE_SIZE, IMAGE_SIZE, 1], 'float32');
}

/** Logits per head of the model, [size, classes]. Call inside tf.tidy. */
export function forwardLogits(
  tf: TfModule,
  kind: ModelKind,
  params: ParamTensors,
  images: Tensor4D,
  alphabet: Int32Array,
): Map<HeadName, Tensor2D> {
  const features = imageLayer(tf, images, params);
  switch (kind) {
    case 'two-output':
      return new Map<HeadName, Tensor2D>([
        ['alphabet', dense(tf, features, params, 'alphabet')],
        ['character', dense(tf, features, params, 'character')],
      ]);
    case 'two-input': {
      // The alphabet label is an input here: one-hot -> Dense 8 -> ELU, joined to the image features.
      const oneHot = tf.oneHot(tf.tensor1d(alphabet, 'int32'), ALPHABET_CLASSES).toFloat() as Tensor2D;
      const embedded = tf.elu(dense(tf, oneHot, params, 'alphabetInput'));
      const joined = tf.concat([features, embedded], 1);
      return new Map<HeadName, Tensor2D>([['character', dense(tf, joined, params, 'character')]]);
    }
  }
}
