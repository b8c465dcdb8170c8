import { boundedText, describeList } from '../logging/bounded-text.js';
import { elementCount, type NamedTensor } from './named-tensor.js';

/** Tensors cross the wire as raw float32 bytes; this bounds what a malformed shape can make us allocate. */
export const MAX_TENSOR_ELEMENTS = 1 << 26;

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The raw little-endian float32 bytes of `data`, without copying where the host is little-endian. */
export function float32ToBytes(data: Float32Array): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

/**
 * Reads raw little-endian float32 bytes. Copies into a fresh, aligned Float32Array, because protobuf hands back
 * views into a shared receive buffer at arbitrary offsets.
 */
export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`float32 data has ${bytes.byteLength} bytes, not a multiple of 4`);
  const out = new Float32Array(bytes.byteLength / 4);
  if (hostIsLittleEndian) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

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
