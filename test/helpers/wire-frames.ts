import { PROTOCOL_VERSION } from '../../shared/protocol/version.js';

/**
 * Protobuf frames built byte by byte, for shapes the encoder never produces: lists of millions of entries
 * (written straight into one buffer, without a JS array of them), groups, wrong wire types.
 */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export const tag = (field: number, wire: number): number[] => varint(field * 8 + wire);

/** A length-delimited field around `payload`. */
export function field(number: number, payload: Uint8Array | readonly number[]): Uint8Array {
  return concat(tag(number, 2), varint(payload.length), payload);
}

export function concat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Envelope field numbers of the message bodies used here (proto/ddp.proto). */
export const BODY = { hello: 10, gradients: 14, weights: 15 } as const;

/** An envelope (this side's version) around `body` as field `bodyField`. */
export function envelope(bodyField: number, body: Uint8Array): Uint8Array {
  return concat(tag(1, 0), varint(PROTOCOL_VERSION), field(bodyField, body));
}

/**
 * A Gradients (or Weights: field 2 holds tensors there, 3 in Gradients) envelope whose one tensor's packed shape
 * lists `entries` ones: `entries` + ~20 bytes, built in one allocation.
 */
export function hugeShapeFrame(entries: number, bodyField: number = BODY.gradients): Buffer {
  const tensorField = bodyField === BODY.weights ? 2 : 3;
  const shapeHead = [...tag(2, 2), ...varint(entries)];
  const tensorLength = shapeHead.length + entries;
  const tensorHead = [...tag(tensorField, 2), ...varint(tensorLength)];
  const bodyLength = tensorHead.length + tensorLength;
  const head = Buffer.from([...tag(1, 0), ...varint(PROTOCOL_VERSION), ...tag(bodyField, 2), ...varint(bodyLength), ...tensorHead, ...shapeHead]);
  const frame = Buffer.alloc(head.length + entries, 1);
  head.copy(frame);
  return frame;
}

/** A frame `depth` start-group tags deep (wire type 3), which protobufjs would skip by recursion. */
export function nestedGroups(depth: number, bodyField: number = BODY.gradients): Uint8Array {
  const open = tag(99, 3);
  const close = tag(99, 4);
  const groups = new Uint8Array(depth * (open.length + close.length));
  for (let i = 0; i < depth; i++) groups.set(open, i * open.length);
  for (let i = 0; i < depth; i++) groups.set(close, depth * open.length + i * close.length);
  return envelope(bodyField, groups);
}

/** Gradients nested as deep as the protocol allows, each level repeated: `tensors` tensors of `rank`-entry shapes. */
export function manyTensorsFrame(tensors: number, rank: number): Uint8Array {
  const tensor = field(3, field(2, new Array<number>(rank).fill(1)));
  const body = new Uint8Array(tensor.length * tensors);
  for (let i = 0; i < tensors; i++) body.set(tensor, i * tensor.length);
  return envelope(BODY.gradients, body);
}
