import type { MessageType } from './messages.js';
import type { WireLimits } from './wire-limits.js';
import { BODY_FIELDS, ENVELOPE_RULE, type FieldRule, type MessageRule } from './wire-schema.js';

/**
 * A bounded walk over the protobuf wire format, run before protobufjs decodes a frame: protobufjs builds every
 * repeated field eagerly, so a 115 MB frame of one-byte shape entries would become a 115-million-element array
 * (and a V8 fatal error). The walk allocates nothing proportional to the input: it counts each repeated field's
 * entries and measures each string against WireLimits, and stops at the first excess. It also refuses what this
 * protocol never sends (groups, wrong wire types), which protobufjs would otherwise recurse into.
 */
export type WireProblem = { readonly code: 'ERR_BAD_MESSAGE' | 'ERR_MESSAGE_LIMIT'; readonly reason: string };

const malformed = (detail: string): WireProblem => ({ code: 'ERR_BAD_MESSAGE', reason: `not a protocol envelope (${detail})` });
const excess = (reason: string): WireProblem => ({ code: 'ERR_MESSAGE_LIMIT', reason });

/** Reads a varint at `pos`: [value, next position], or undefined when it runs past `end` or over 10 bytes. */
function varint(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  let value = 0;
  for (let i = 0; i < 10 && pos < end; i++) {
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return [value, pos];
  }
  return undefined;
}

const WIRE_OF: Readonly<Record<FieldRule['kind'], number>> = { varint: 0, fixed64: 1, string: 2, bytes: 2, message: 2, fixed32: 5 };

/** Entries of a packed repeated scalar of `kind` in buf[pos, end), or undefined when the payload is torn. */
function packedCount(buf: Uint8Array, pos: number, end: number, kind: FieldRule['kind']): number | undefined {
  if (kind === 'fixed32' || kind === 'fixed64') {
    const size = kind === 'fixed32' ? 4 : 8;
    return (end - pos) % size === 0 ? (end - pos) / size : undefined;
  }
  if (end > pos && buf[end - 1]! >= 0x80) return undefined;
  let n = 0;
  for (let i = pos; i < end; i++) if (buf[i]! < 0x80) n++;
  return n;
}

/** One field of a message: where its payload lies. `start`/`end` bound the payload of length-delimited fields. */
interface WireField { readonly field: number; readonly wire: number; readonly start: number; readonly end: number }

/** The fields of the message in buf[pos, end), one by one, or the reason the bytes are not protobuf. */
function* fields(buf: Uint8Array, pos: number, end: number): Generator<WireField, WireProblem | undefined> {
  while (pos < end) {
    const tag = varint(buf, pos, end);
    if (!tag || tag[0] > 0xffffffff) return malformed(`bad tag at byte ${pos}`);
    const [key, afterTag] = tag;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) return malformed(`field number 0 at byte ${pos}`);
    let next: number;
    let start = afterTag;
    switch (wire) {
      case 0: {
        const v = varint(buf, afterTag, end);
        if (!v) return malformed(`truncated varint at byte ${afterTag}`);
        next = v[1];
        break;
      }
      case 1: next = afterTag + 8; break;
      case 5: next = afterTag + 4; break;
      case 2: {
        const len = varint(buf, afterTag, end);
        if (!len) return malformed(`truncated length at byte ${afterTag}`);
        start = len[1];
        next = start + len[0];
        break;
      }
      case 3: case 4: return malformed(`group (wire type ${wire}) in field ${field}: this protocol has none`);
      default: return malformed(`invalid wire type ${wire} at byte ${pos}`);
    }
    if (next > end) return malformed(`field ${field} runs past the end of its message`);
    yield { field, wire, start, end: next };
    pos = next;
  }
  return undefined;
}

function scanMessage(buf: Uint8Array, pos: number, end: number, rule: MessageRule, limits: WireLimits): WireProblem | undefined {
  const counts = new Map<number, number>();
  const walk = fields(buf, pos, end);
  for (let step = walk.next(); ; step = walk.next()) {
    if (step.done) return step.value;
    const { field, wire, start, end: stop } = step.value;
    const f = rule.fields.get(field);
    if (!f) continue; // unknown fields are skipped by protobufjs too, without allocating
    const packed = f.repeated && wire === 2 && f.kind !== 'string' && f.kind !== 'bytes' && f.kind !== 'message';
    if (!packed && wire !== WIRE_OF[f.kind]) return malformed(`${f.key} has wire type ${wire}`);
    let entries = 1;
    if (packed) {
      const n = packedCount(buf, start, stop, f.kind);
      if (n === undefined) return malformed(`${f.key} is a torn packed list`);
      entries = n;
    } else if (f.kind === 'string' || f.kind === 'bytes') {
      const most = limits.strings[f.key] ?? limits.maxStringBytes;
      if (stop - start > most) return excess(`${f.key} holds ${stop - start} bytes, the limit is ${most}`);
    } else if (f.message) {
      const problem = scanMessage(buf, start, stop, f.message, limits);
      if (problem) return problem;
    }
    if (f.repeated) {
      const most = limits.repeated[f.key] ?? 0;
      const count = (counts.get(field) ?? 0) + entries;
      if (count > most) return excess(`${f.key} holds over ${most} entries (${count} so far)`);
      counts.set(field, count);
    }
  }
}

/** Checks a whole frame against `limits` without decoding it; undefined when protobufjs may decode it. */
export function scanFrame(frame: Uint8Array, limits: WireLimits): WireProblem | undefined {
  if (frame.byteLength > limits.maxMessageBytes) {
    return excess(`frame of ${frame.byteLength} bytes, the limit is ${limits.maxMessageBytes}`);
  }
  return scanMessage(frame, 0, frame.byteLength, ENVELOPE_RULE, limits);
}

/** What routing needs of a frame: which message its envelope carries, read without decoding. */
export type EnvelopePeek = { readonly ok: true; readonly body: MessageType } | ({ readonly ok: false } & WireProblem)
  | { readonly ok: false; readonly code: 'ERR_UNKNOWN_MESSAGE'; readonly reason: string };

export function peekEnvelope(frame: Uint8Array): EnvelopePeek {
  let body: MessageType | undefined;
  const walk = fields(frame, 0, frame.byteLength);
  for (let step = walk.next(); ; step = walk.next()) {
    if (step.done) {
      if (step.value) return { ok: false, ...step.value };
      break;
    }
    const name = BODY_FIELDS.get(step.value.field);
    if (name === undefined) continue;
    if (step.value.wire !== 2) return { ok: false, ...malformed(`message body ${name} has wire type ${step.value.wire}`) };
    // protobufjs would keep one of several bodies; a real peer never sends two.
    if (body !== undefined) return { ok: false, ...malformed(`envelope carries both ${body} and ${name}`) };
    body = name;
  }
  return body === undefined ? { ok: false, code: 'ERR_UNKNOWN_MESSAGE', reason: 'envelope has no message body' } : { ok: true, body };
}
