import { crc32c } from '@aws-crypto/crc32c';

/** TFRecord's CRC mask: stored CRCs are rotated and offset so a CRC of CRC-bearing data is not trivially zero. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/**
 * One TFRecord: uint64 length (little-endian), masked CRC32C of those 8 bytes, the data, masked CRC32C of the data.
 * TensorBoard's event files are a sequence of these around serialized `Event` protobufs.
 */
export function tfRecord(data: Uint8Array): Buffer {
  const record = Buffer.alloc(8 + 4 + data.length + 4);
  record.writeBigUInt64LE(BigInt(data.length), 0);
  record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
  record.set(data, 12);
  record.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return record;
}
