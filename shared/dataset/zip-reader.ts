import { readFile } from 'node:fs/promises';
import zlib from 'node:zlib';
import { DdpError } from '../common/errors.js';
import { datasetError, describeError } from './errors.js';

/**
 * A small reader for the zips the dataset ships in: the whole file in memory (the Omniglot zips are under 10 MB),
 * entries listed from the central directory, stored (0) and deflate (8) only, every read checked against the
 * recorded size and CRC-32. No zip64, encryption or multi-disk archives: none of them occur in the dataset, and each
 * is refused with ERR_DATASET_CORRUPT rather than misread.
 */

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  readonly isDirectory: boolean;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const ZIP64_MARKER = 0xffffffff;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DATA_DESCRIPTOR = 0x8;

export class ZipReader {
  readonly entries: readonly ZipEntry[];
  private readonly byName: ReadonlyMap<string, ZipEntry>;

  private constructor(
    /** Named in every error so that the user knows which file to replace. */
    readonly path: string,
    private readonly data: Buffer,
  ) {
    this.entries = readCentralDirectory(path, data);
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  /** Reads and indexes the zip; throws ERR_DATASET_CORRUPT when its directory is damaged or the file truncated. */
  static async open(path: string): Promise<ZipReader> {
    return new ZipReader(path, await readFile(path));
  }

  static fromBuffer(path: string, data: Buffer): ZipReader {
    return new ZipReader(path, data);
  }

  get(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** The entry's bytes, decompressed and checked; throws ERR_DATASET_CORRUPT naming the zip and entry otherwise. */
  read(entry: ZipEntry): Buffer {
    const fail = (why: string, cause?: unknown): DdpError =>
      datasetError('ERR_DATASET_CORRUPT', `Corrupt zip ${this.path}: entry ${entry.name}: ${why}`, cause);
    const at = entry.localHeaderOffset;
    if (at + LOCAL_SIZE > this.data.length) throw fail('local header lies past the end of the file (truncated?)');
    if (this.data.readUInt32LE(at) !== LOCAL_SIGNATURE) throw fail(`bad local header signature at offset ${at}`);
    // The local header's name and extra lengths may differ from the central directory's, so the data offset must
    // come from here.
    const start = at + LOCAL_SIZE + this.data.readUInt16LE(at + 26) + this.data.readUInt16LE(at + 28);
    const end = start + entry.compressedSize;
    if (end > this.data.length) throw fail(`data runs past the end of the file (truncated?)`);
    const raw = this.data.subarray(start, end);
    let out: Buffer;
    if (entry.method === 0) {
      out = raw;
    } else if (entry.method === 8) {
      try {
        // maxOutputLength stops a damaged stream from inflating without bound.
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      } catch (error) {
        throw fail(`deflate data does not decompress (${describeError(error)})`, error);
      }
    } else {
      throw fail(`unsupported compression method ${entry.method} (only stored and deflate are)`);
    }
    if (out.length !== entry.size) throw fail(`size ${out.length} where the directory records ${entry.size}`);
    const actual = zlib.crc32(out);
    if (actual !== entry.crc32) throw fail(`CRC-32 ${hex(actual)} where the directory records ${hex(entry.crc32)}`);
    return out;
  }
}

function readCentralDirectory(path: string, data: Buffer): ZipEntry[] {
  const fail = (why: string): DdpError => datasetError('ERR_DATASET_CORRUPT', `Corrupt zip ${path}: ${why}`);
  const eocd = findEndOfCentralDirectory(data);
  if (eocd < 0) throw fail(`no end-of-central-directory record (not a zip, or truncated${truncationHint(data)})`);
  if (data.readUInt16LE(eocd + 4) !== 0 || data.readUInt16LE(eocd + 6) !== 0) throw fail('multi-disk zips are not supported');
  const count = data.readUInt16LE(eocd + 10);
  const dirSize = data.readUInt32LE(eocd + 12);
  const dirOffset = data.readUInt32LE(eocd + 16);
  if (dirOffset === ZIP64_MARKER || count === 0xffff) throw fail('zip64 archives are not supported');
  if (dirOffset + dirSize > eocd) throw fail(`central directory (offset ${dirOffset}, ${dirSize} bytes) overlaps its end record`);

  const entries: ZipEntry[] = [];
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + CENTRAL_SIZE > eocd || data.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw fail(`bad central directory record ${i} of ${count} at offset ${at}${entries.length ? ` (after entry ${entries.at(-1)?.name})` : ''}`);
    }
    const flags = data.readUInt16LE(at + 8);
    const nameLength = data.readUInt16LE(at + 28);
    const next = at + CENTRAL_SIZE + nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
    if (next > eocd) throw fail(`central directory record ${i} runs past the directory`);
    // Bit 11 marks UTF-8; without it the name is CP437, which agrees with UTF-8 on the ASCII names Omniglot uses.
    const name = data.toString('utf8', at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);
    const entry: ZipEntry = {
      name,
      method: data.readUInt16LE(at + 10),
      crc32: data.readUInt32LE(at + 16),
      compressedSize: data.readUInt32LE(at + 20),
      size: data.readUInt32LE(at + 24),
      localHeaderOffset: data.readUInt32LE(at + 42),
      isDirectory: name.endsWith('/'),
    };
    if (flags & FLAG_ENCRYPTED) throw fail(`entry ${name} is encrypted`);
    if (entry.size === ZIP64_MARKER || entry.compressedSize === ZIP64_MARKER || entry.localHeaderOffset === ZIP64_MARKER) {
      throw fail(`entry ${name} needs zip64, which is not supported`);
    }
    entries.push(entry);
    at = next;
  }
  return entries;
}

/** The EOCD is the last record; a trailing comment of up to 64 KiB may follow it, so search backwards that far. */
function findEndOfCentralDirectory(data: Buffer): number {
  const lowest = Math.max(0, data.length - EOCD_SIZE - 0xffff);
  for (let at = data.length - EOCD_SIZE; at >= lowest; at--) {
    if (data.readUInt32LE(at) === EOCD_SIGNATURE && at + EOCD_SIZE + data.readUInt16LE(at + 20) <= data.length) return at;
  }
  return -1;
}

/**
 * Without a directory, walk the local headers from the front to name the entry the file ends inside, so that a
 * cut-short download or copy says where it was cut.
 */
function truncationHint(data: Buffer): string {
  let at = 0;
  let last = '';
  while (at + LOCAL_SIZE <= data.length && data.readUInt32LE(at) === LOCAL_SIGNATURE) {
    const flags = data.readUInt16LE(at + 6);
    const nameLength = data.readUInt16LE(at + 26);
    const nameEnd = Math.min(data.length, at + LOCAL_SIZE + nameLength);
    const name = data.toString('utf8', at + LOCAL_SIZE, nameEnd);
    if (flags & FLAG_DATA_DESCRIPTOR) return ''; // sizes unknown up front: cannot walk further
    const next = at + LOCAL_SIZE + nameLength + data.readUInt16LE(at + 28) + data.readUInt32LE(at + 18);
    if (next > data.length) return `: the file ends inside entry ${name}`;
    last = name;
    at = next;
  }
  if (!last) return '';
  if (at + 4 <= data.length && data.readUInt32LE(at) === CENTRAL_SIGNATURE) return `: the file ends inside the central directory, after entry ${last}`;
  return `: the file ends after entry ${last}, before the central directory`;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
