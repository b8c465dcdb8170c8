import { readFile } from 'node:fs/promises';

/**
 * An independent reader of TensorBoard event files, written from the format's description and sharing no code
 * with the writer: its own CRC32C (Castagnoli, reflected polynomial 0x82F63B78), its own TFRecord unframing and
 * its own protobuf wire decoding of Event { double wall_time = 1; int64 step = 2; string file_version = 3;
 * Summary summary = 5 }, Summary { repeated Value value = 1 }, Value { string tag = 1; float simple_value = 2 }.
 */
export interface ReadEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly scalars: { readonly tag: string; readonly value: number }[];
}

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cReference(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** Protobuf fields of one message: [field number, wire type, value (number for varint/fixed, bytes for length-delimited)]. */
function fields(buf: Uint8Array): [number, number, number | bigint | Uint8Array][] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: [number, number, number | bigint | Uint8Array][] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push([field, wire, varint()]);
    else if (wire === 1) { out.push([field, wire, view.getFloat64(i, true)]); i += 8; }
    else if (wire === 5) { out.push([field, wire, view.getFloat32(i, true)]); i += 4; }
    else if (wire === 2) { const n = Number(varint()); out.push([field, wire, buf.subarray(i, i + n)]); i += n; }
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function decodeEvent(bytes: Uint8Array): ReadEvent {
  let wallTime = 0;
  let step = 0;
  let fileVersion: string | undefined;
  const scalars: { tag: string; value: number }[] = [];
  for (const [field, , value] of fields(bytes)) {
    if (field === 1) wallTime = value as number;
    else if (field === 2) step = Number(value as bigint);
    else if (field === 3) fileVersion = Buffer.from(value as Uint8Array).toString('utf8');
    else if (field === 5) {
      for (const [vf, , v] of fields(value as Uint8Array)) {
        if (vf !== 1) continue;
        let tag = '';
        let simple = Number.NaN;
        for (const [f, , x] of fields(v as Uint8Array)) {
          if (f === 1) tag = Buffer.from(x as Uint8Array).toString('utf8');
          if (f === 2) simple = x as number;
        }
        scalars.push({ tag, value: simple });
      }
    }
  }
  return { wallTime, step, ...(fileVersion !== undefined ? { fileVersion } : {}), scalars };
}

/** @throws Error naming the record and the check that failed. */
export function readTfEvents(buf: Uint8Array): ReadEvent[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const events: ReadEvent[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 12 > buf.length) throw new Error(`record ${events.length}: truncated header`);
    const length = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== masked(buf.subarray(at, at + 8))) throw new Error(`record ${events.length}: length CRC mismatch`);
    const data = buf.subarray(at + 12, at + 12 + length);
    if (data.length !== length || at + 16 + length > buf.length) throw new Error(`record ${events.length}: truncated data`);
    if (view.getUint32(at + 12 + length, true) !== masked(data)) throw new Error(`record ${events.length}: data CRC mismatch`);
    events.push(decodeEvent(data));
    at += 16 + length;
  }
  return events;
}

export async function readTfEventsFile(file: string): Promise<ReadEvent[]> {
  return readTfEvents(await readFile(file));
}
