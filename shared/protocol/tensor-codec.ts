import { bytesToFloat32, float32ToBytes } from '../common/float32-bytes.js';
import { elementCount, type NamedTensor } from '../common/named-tensor.js';
import { boundedText, describeList } from '../common/bounded-text.js';

/** Tensors cross the wire as raw float32 bytes; this bounds what a malformed shape can make us allocate. */
export const MAX_TENSOR_ELEMENTS = 1 << 26;

export interface WireTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export function encodeTensor(tensor: NamedTensor): WireTensor {
  return { name: tensor.name, shape: tensor.shape, data: float32ToBytes(tensor.data) };
}

/**
 * Checks that the byte length matches the shape before allocating anything.
 * @throws RangeError naming the tensor when shape and bytes disagree or the shape is absurd.
 */
export function decodeTensor(wire: WireTensor): NamedTensor {
  const shape = wire.shape;
  const name = boundedText(wire.name, 60);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(`tensor '${name}' has an invalid shape ${describeList(shape)}`);
  }
  const elements = elementCount(shape);
  if (elements > MAX_TENSOR_ELEMENTS) {
    throw new RangeError(`tensor '${name}' shape ${describeList(shape)} exceeds ${MAX_TENSOR_ELEMENTS} elements`);
  }
  if (wire.data.byteLength !== elements * 4) {
    throw new RangeError(
      `tensor '${name}' shape ${describeList(shape)} needs ${elements * 4} bytes, got ${wire.data.byteLength}`,
    );
  }
  return { name: wire.name, shape: [...shape], data: bytesToFloat32(wire.data) };
}
