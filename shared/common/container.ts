import { createHash } from 'node:crypto';

/**
 * The one binary file format of the project (checkpoints, weight files, the dataset cache): readable without the
 * rest of the program.
 *
 *   magic "ODDPFILE" (8 bytes) | format version u32 LE | index length u32 LE |
 *   index: UTF-8 JSON { kind, meta, sections: [{ name, bytes }] } |
 *   the sections' raw bytes, back to back in index order |
 *   sha256 of everything before it (32 bytes)
 *
 * `kind` says what the file holds, `meta` is the holder's own JSON. The trailing checksum catches truncation and bit
 * rot alike: a file that does not end in the hash of its own bytes is refused as a whole, before anything is parsed.
 */
export const CONTAINER_MAGIC = 'ODDPFILE';
export const CONTAINER_VERSION = 1;
const PREFIX_BYTES = 16;
const HASH_BYTES = 32;

export interface Section {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ContainerContent {
  readonly kind: string;
  /** JSON-serialisable. */
  readonly meta: unknown;
  readonly sections: readonly Section[];
}

export interface DecodedContainer {
  /** As parsed from JSON: the holder checks its fields. */
  readonly meta: unknown;
  /** Views into the file's bytes, in index order. */
  readonly sections: ReadonlyMap<string, Uint8Array>;
}

interface Index {
  readonly kind: string;
  readonly meta: unknown;
  readonly sections: readonly { readonly name: string; readonly bytes: number }[];
}

/** The file's bytes, as chunks to write in order (see writeFileAtomic). */
export function encodeContainer(content: ContainerContent): Uint8Array[] {
  const index: Index = { kind: content.kind, meta: content.meta, sections: content.sections.map((s) => ({ name: s.name, bytes: s.bytes.byteLength })) };
  const json = Buffer.from(JSON.stringify(index), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(CONTAINER_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CONTAINER_VERSION, 8);
  prefix.writeUInt32LE(json.length, 12);
  const chunks: Uint8Array[] = [prefix, json, ...content.sections.map((s) => s.bytes)];
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  chunks.push(hash.digest());
  return chunks;
}

/**
 * Checks and opens a container of `kind`. `corrupt` makes the error thrown for each problem (a message such as
 * "fails its sha256 checksum (truncated or damaged)"), so each holder raises its own catalogued error.
 */
export function decodeContainer(bytes: Uint8Array, kind: string, corrupt: (why: string) => Error): DecodedContainer {
  const fail = (why: string): never => {
    throw corrupt(why);
  };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX_BYTES + HASH_BYTES) fail(`is truncated (${buf.length} bytes)`);
  if (buf.toString('latin1', 0, 8) !== CONTAINER_MAGIC) fail(`does not start with the file magic ${CONTAINER_MAGIC}`);
  const version = buf.readUInt32LE(8);
  if (version !== CONTAINER_VERSION) fail(`has file format version ${version}, this program reads ${CONTAINER_VERSION}`);
  const end = buf.length - HASH_BYTES;
  const expected = createHash('sha256').update(buf.subarray(0, end)).digest();
  if (!expected.equals(buf.subarray(end))) fail('fails its sha256 checksum (truncated or damaged)');
  const indexEnd = PREFIX_BYTES + buf.readUInt32LE(12);
  if (indexEnd > end) fail('index runs past the end of the file');
  const index = parseIndex(buf.toString('utf8', PREFIX_BYTES, indexEnd)) ?? fail('index is not a valid section list');
  if (index.kind !== kind) fail(`holds a ${JSON.stringify(index.kind)}, not a ${kind}`);
  const sections = new Map<string, Uint8Array>();
  let at = indexEnd;
  for (const s of index.sections) {
    if (sections.has(s.name)) fail(`has section ${s.name} twice`);
    if (at + s.bytes > end) fail(`section ${s.name} runs past the end of the file`);
    sections.set(s.name, buf.subarray(at, (at += s.bytes)));
  }
  if (at !== end) fail(`has ${end - at} unexplained bytes after its sections`);
  return { meta: index.meta, sections };
}

/** A section that must be there, with the length the holder expects. */
export function requireSection(container: DecodedContainer, name: string, bytes: number, corrupt: (why: string) => Error): Uint8Array {
  const section = container.sections.get(name);
  if (section === undefined) throw corrupt(`lacks section ${name}`);
  if (section.byteLength !== bytes) throw corrupt(`section ${name} has ${section.byteLength} bytes, expected ${bytes}`);
  return section;
}

function parseIndex(text: string): Index | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const sections = v['sections'];
  if (typeof v['kind'] !== 'string' || !Array.isArray(sections)) return undefined;
  const valid = sections.every((s: unknown) => typeof s === 'object' && s !== null
    && typeof (s as Record<string, unknown>)['name'] === 'string' && Number.isSafeInteger((s as Record<string, unknown>)['bytes'])
    && ((s as Record<string, unknown>)['bytes'] as number) >= 0);
  return valid ? { kind: v['kind'], meta: v['meta'], sections: sections as Index['sections'] } : undefined;
}
