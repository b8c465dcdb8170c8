import zlib from 'node:zlib';

/**
 * CRC-32 (the zip/PNG polynomial). Node has a native one from 20.15; the table version keeps older Node 20 releases
 * (which package.json's engines field still admits) working.
 */
export const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : tableCrc32;

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array): number {
  table ??= makeTable();
  let crc = 0xffffffff;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Exposed for the test that checks the fallback against the native one. */
export const crc32ForTests = { table: tableCrc32 };
