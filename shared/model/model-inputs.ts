import type { Tensor } from '@tensorflow/tfjs';
import type { TfModule } from '../compute/tf-module.js';
import { IMAGE_SIZE } from './batch.js';
import { ALPHABET_CLASSES } from './heads.js';

/** What a sample can feed a model: its image, and (for models that take it) its alphabet label. */
export type InputName = 'image' | 'alphabet';

/** Per-sample shape and exported input-layer name of each input. */
export const MODEL_INPUTS: Readonly<Record<InputName, { readonly shape: readonly number[]; readonly layer: string }>> = {
  image: { shape: [IMAGE_SIZE, IMAGE_SIZE, 1], layer: 'image' },
  /** The alphabet label, one-hot: the model sees it as 30 features. */
  alphabet: { shape: [ALPHABET_CLASSES], layer: 'alphabet_one_hot' },
};

/** The raw arrays inputs are made from: n images of 64 x 64 (ink 1) and n alphabet labels. */
export interface InputArrays {
  readonly images: Float32Array;
  readonly alphabet: Int32Array;
}

/** The tensor `input` is fed as, [n, ...shape]. Call inside tf.tidy. */
export function inputTensor(tf: TfModule, input: InputName, n: number, arrays: InputArrays): Tensor {
  switch (input) {
    case 'image':
      return tf.tensor4d(arrays.images, [n, IMAGE_SIZE, IMAGE_SIZE, 1], 'float32');
    case 'alphabet':
      return tf.oneHot(tf.tensor1d(arrays.alphabet, 'int32'), ALPHABET_CLASSES).toFloat();
  }
}
