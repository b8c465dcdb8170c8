import { defineModel } from '../model-graph.js';
import { imageFeatures } from './image-features.js';

/** The course's multi-input model: the image and its alphabet in (one-hot -> Dense 8 -> ELU), the character out. */
export const twoInputModel = defineModel('two-input', 'omniglot_two_input', (g) => {
  const features = imageFeatures(g);
  let alphabet = g.input('alphabet');
  alphabet = g.dense(alphabet, { param: 'alphabetInput', layer: 'alphabet_input_dense', units: 8 });
  alphabet = g.elu(alphabet, { layer: 'alphabet_input_elu' });
  g.head('character', g.concat([features, alphabet], { layer: 'joined' }));
});
