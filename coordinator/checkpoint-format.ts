import { createHash } from 'node:crypto';
import { DdpError } from '../shared/common/errors.js';
import { isModelKind } from '../shared/model/model-spec.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { elementCount } from '../shared/common/named-tensor.js';
import type { TrainingState } from './training-state.js';

/**
 * The checkpoint file: a small binary container, readable without the rest of the program.
 *
 *   magic "ODDPCKPT" (8 bytes) | version u32 LE | header length u32 LE | header (UTF-8 JSON: the state without its
 *   tensors, plus each tensor's name, shape and group) | tensors, raw little-endian float32, in header order |
 *   sha256 of everything before it (32 bytes)
 *
 * The trailing checksum catches truncation and bit rot alike: a file that does not end in the hash of its own bytes
 * is refused as a whole.
 */
export const CHECKPOINT_MAGIC = 'ODDPCKPT';
export const CHECKPOINT_VERSION = 1;
const PREFIX_BYTES = 16;
const HASH_BYTES = 32;

interface TensorEntry {
  readonly group: 'params' | 'sgd';
  readonly name: string;
  readonly shape: readonly number[];
}

type Header = Omit<TrainingState, 'params' | 'sgdState'> & { readonly tensors: readonly TensorEntry[] };

/** The file's bytes, as chunks to write in order. */
export function encodeCheckpoint(state: TrainingState): Uint8Array[] {
  const tensors: TensorEntry[] = [
    ...state.params.map((p) => ({ group: 'params' as const, name: p.name, shape: [...p.shape] })),
    ...state.sgdState.map((_, i) => {
      const p = state.params[i]!;
      return { group: 'sgd' as const, name: p.name, shape: [...p.shape] };
    }),
  ];
  const { params, sgdState, ...rest } = state;
  const header: Header = { ...rest, tensors };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  const body = [...params.map((p) => p.data), ...sgdState].map((data) => littleEndianBytes(data));
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [prefix, json, ...body];
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  return chunks;
}

/**
 * Reads a checkpoint back.
 * @throws DdpError ERR_CHECKPOINT_CORRUPT when the file is truncated, fails its checksum, or does not describe a
 *   training state (wrong magic, unknown version, tensors that do not add up).
 */
export function decodeCheckpoint(bytes: Uint8Array): TrainingState {
  const corrupt = (why: string): never => {
    throw new DdpError('ERR_CHECKPOINT_CORRUPT', `checkpoint ${why}`);
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX_BYTES + HASH_BYTES) corrupt(`is truncated (${buf.length} bytes)`);
  if (buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) corrupt('does not start with the checkpoint magic');
  const version = buf.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) corrupt(`has format version ${version}, this program reads ${CHECKPOINT_VERSION}`);
  const end = buf.length - HASH_BYTES;
  const expected = createHash('sha256').update(buf.subarray(0, end)).digest();
  if (!expected.equals(buf.subarray(end))) corrupt('fails its sha256 checksum (truncated or damaged)');
  const headerLength = buf.readUInt32LE(12);
  if (PREFIX_BYTES + headerLength > end) corrupt('header runs past the end of the file');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength)) as Header;
  } catch {
    return corrupt('header is not JSON');
  }
  if (!isModelKind(String(header.modelKind)) || typeof header.datasetFingerprint !== 'string' || !Array.isArray(header.tensors) || !Number.isInteger(header.epoch)
    || !Number.isInteger(header.stepInEpoch) || !Number.isInteger(header.globalStep)) {
    corrupt('header lacks the training state fields');
  }
  let offset = PREFIX_BYTES + headerLength;
  const params: NamedTensor[] = [];
  const sgdState: Float32Array[] = [];
  for (const t of header.tensors) {
    const bytesNeeded = elementCount(t.shape) * 4;
    if (offset + bytesNeeded > end) corrupt(`tensor '${t.name}' runs past the end of the file`);
    const data = fromLittleEndian(buf.subarray(offset, offset + bytesNeeded));
    offset += bytesNeeded;
    if (t.group === 'params') params.push({ name: t.name, shape: [...t.shape], data });
    else sgdState.push(data);
  }
  if (offset !== end) corrupt(`has ${end - offset} unexplained bytes after its tensors`);
  const { tensors, ...rest } = header;
  return { ...rest, params, sgdState };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = Buffer.alloc(data.byteLength);
  data.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

function fromLittleEndian(bytes: Buffer): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
  else for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
