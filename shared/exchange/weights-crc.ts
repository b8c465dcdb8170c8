import { crc32 } from 'node:zlib';
import { float32ToBytes } from '../common/float32-bytes.js';

/**
 * The CRC-32 of the weights' float32 bytes, tensor after tensor in parameter order: a replica's proof that it holds
 * the coordinator's weights bit for bit (zlib's native CRC, about 2 ms for the 8.9 MB model).
 */
export function weightsCrc32(tensors: readonly { readonly data: Float32Array }[]): number {
  let crc = 0;
  for (const t of tensors) crc = crc32(float32ToBytes(t.data), crc);
  return crc;
}
