import type { GraphBuilder, GraphNode } from '../model-graph.js';

/**
 * The image branch both course models share: Conv 3x3 'same' (16 filters) -> MaxPool 2 -> ELU -> Flatten (NHWC) ->
 * Dense 128, no activation, as in the course. PyTorch flattens NCHW, so `image.dense.kernel` rows are a permutation
 * of PyTorch's (same function, different order).
 */
export function imageFeatures(g: GraphBuilder): GraphNode {
  let x = g.input('image');
  x = g.conv2d(x, { param: 'image.conv', layer: 'image_conv', filters: 16, kernelSize: 3 });
  x = g.maxPool(x, { layer: 'image_pool', size: 2 });
  x = g.elu(x, { layer: 'image_elu' });
  x = g.flatten(x, { layer: 'image_flatten' });
  return g.dense(x, { param: 'image.dense', layer: 'image_dense', units: 128 });
}
