import { defineModel } from '../model-graph.js';
import { imageFeatures } from './image-features.js';

/** The course's multi-output model: one image in, the alphabet and the character out. */
export const twoOutputModel = defineModel('two-output', 'omniglot_two_output', (g) => {
  const features = imageFeatures(g);
  g.head('alphabet', features);
  g.head('character', features);
});
