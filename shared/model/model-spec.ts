import { ALPHABET_CLASSES, CHARACTER_CLASSES, type HeadName } from '../heads.js';
import { IMAGE_SIZE } from './batch.js';

export type ModelKind = 'two-output' | 'two-input';
export const MODEL_KINDS: readonly ModelKind[] = ['two-output', 'two-input'];

export function isModelKind(s: string): s is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(s);
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export interface ModelSpec {
  readonly kind: ModelKind;
  readonly heads: readonly HeadName[];
  /** Whether an evaluation reports Agreement (the character head's implied alphabet vs the alphabet head). */
  readonly agreement: boolean;
  readonly params: readonly ParamSpec[];
}

export const CONV_FILTERS = 16;
export const IMAGE_FEATURES = 128;
export const ALPHABET_EMBEDDING = 8;
/** Conv keeps 64x64 ('same'), max-pool halves it: 16 x 32 x 32 features, flattened in NHWC order (h, w, c). */
export const FLAT_FEATURES = CONV_FILTERS * (IMAGE_SIZE / 2) * (IMAGE_SIZE / 2);

const IMAGE_PARAMS: readonly ParamSpec[] = [
  { name: 'image.conv.kernel', shape: [3, 3, 1, CONV_FILTERS] },
  { name: 'image.conv.bias', shape: [CONV_FILTERS] },
  { name: 'image.dense.kernel', shape: [FLAT_FEATURES, IMAGE_FEATURES] },
  { name: 'image.dense.bias', shape: [IMAGE_FEATURES] },
];

const SPECS: Readonly<Record<ModelKind, ModelSpec>> = {
  'two-output': {
    kind: 'two-output',
    heads: ['alphabet', 'character'],
    agreement: true,
    params: [
      ...IMAGE_PARAMS,
      { name: 'alphabet.kernel', shape: [IMAGE_FEATURES, ALPHABET_CLASSES] },
      { name: 'alphabet.bias', shape: [ALPHABET_CLASSES] },
      { name: 'character.kernel', shape: [IMAGE_FEATURES, CHARACTER_CLASSES] },
      { name: 'character.bias', shape: [CHARACTER_CLASSES] },
    ],
  },
  'two-input': {
    kind: 'two-input',
    heads: ['character'],
    agreement: false,
    params: [
      ...IMAGE_PARAMS,
      { name: 'alphabetInput.kernel', shape: [ALPHABET_CLASSES, ALPHABET_EMBEDDING] },
      { name: 'alphabetInput.bias', shape: [ALPHABET_EMBEDDING] },
      { name: 'character.kernel', shape: [IMAGE_FEATURES + ALPHABET_EMBEDDING, CHARACTER_CLASSES] },
      { name: 'character.bias', shape: [CHARACTER_CLASSES] },
    ],
  },
};

/**
 * The course models' parameters, in the fixed order used on the wire and in checkpoints. Layout is NHWC; PyTorch
 * flattens NCHW, so `image.dense.kernel` rows are a permutation of PyTorch's (same function, different order).
 */
export function modelSpec(kind: ModelKind): ModelSpec {
  return SPECS[kind];
}
