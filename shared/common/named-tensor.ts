/** A float32 tensor as it lives outside tfjs: on the wire, in checkpoints, in the coordinator's optimizer. */
export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}
