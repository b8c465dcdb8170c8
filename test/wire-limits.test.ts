import test, { type ExecutionContext } from 'ava';
import { stepId, taskId } from '../shared/protocol/ids.js';
import { initialParams } from '../shared/model/initial-params.js';
import { MODEL_KINDS, modelSpec } from '../shared/model/model-spec.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { MAX_SAMPLE_INDICES, runWireLimits, wireLimits } from '../shared/protocol/wire-limits.js';
import type { MessageType } from '../shared/protocol/messages.js';
import { BODY_FIELDS, repeatedFieldKeys } from '../shared/protocol/wire-schema.js';
import { peekEnvelope, scanFrame } from '../shared/protocol/wire-scan.js';
import { BODY, concat, envelope, field, hugeShapeFrame, manyTensorsFrame, nestedGroups, tag, varint } from './helpers/wire-frames.js';

/** Asserts a refusal (from scanFrame, decodeMessage or peekEnvelope) by code and a pattern of its reason. */
function refused(t: ExecutionContext, result: object | undefined, code: string, reason: RegExp): void {
  const r = (result ?? {}) as { code?: string; reason?: string };
  t.is(r.code, code, r.reason);
  t.regex(r.reason ?? '', reason);
}

// The bounded wire walk that runs before protobufjs: limits derived from the model, every repeated field and string
// checked before anything proportional to it is built, and what this protocol never sends refused outright.

test('limits come from the model: its weights and a whole split of indices fit, with little to spare', (t) => {
  for (const kind of MODEL_KINDS) {
    const limits = runWireLimits(kind, [15_424, 3_856]);
    const params = initialParams(kind, 1);
    const weights = encodeMessage({ type: 'weights', version: 2 ** 40, tensors: params });
    const heads = modelSpec(kind).heads.map((head) => ({ head, lossSum: 1e30, correct: 2 ** 40, count: 2 ** 40 }));
    const gradients = encodeMessage({ type: 'gradients', taskId: taskId(2 ** 50), stepId: stepId(2 ** 50), sampleCount: 2 ** 31,
      grads: params, heads, computeMs: 1e9 });
    const indices = encodeMessage({ type: 'eval-request', taskId: taskId(1), split: 'train', weightsVersion: 1,
      sampleIndices: new Uint32Array(15_424).fill(2 ** 32 - 1) });
    for (const [name, frame] of [['weights', weights], ['gradients', gradients], ['indices', indices]] as const) {
      t.true(frame.byteLength <= limits.maxMessageBytes, `${kind} ${name}: ${frame.byteLength} <= ${limits.maxMessageBytes}`);
      t.is(scanFrame(frame, limits), undefined, `${kind} ${name} passes the scan`);
    }
    // Derived, not a round constant: within 5% (plus the fixed headroom) of the largest legitimate frame.
    t.true(limits.maxMessageBytes < 1.05 * Math.max(gradients.byteLength, weights.byteLength) + indices.byteLength + 70_000,
      `${kind}: limit ${limits.maxMessageBytes} hugs the weights (${weights.byteLength} bytes)`);
    t.is(limits.repeated['Tensor.shape'], 4);
    t.is(limits.repeated['Weights.tensors'], params.length);
    t.is(limits.repeated['StepAssignment.sampleIndices'], 15_424);
  }
  const helloLimits = wireLimits([modelSpec('two-output')]);
  const hello = encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: 'b'.repeat(256), datasetFingerprint: 'f'.repeat(256),
    workerName: 'n'.repeat(256), modelKind: 'm'.repeat(256), host: 'h'.repeat(256), pid: 2 ** 32 - 1 });
  t.true(hello.byteLength <= helloLimits.maxHelloBytes, `largest hello ${hello.byteLength} <= ${helloLimits.maxHelloBytes}`);
  t.is(MAX_SAMPLE_INDICES, 19_280);
});

test('every repeated field of the protocol has a limit', (t) => {
  const limits = wireLimits(MODEL_KINDS.map(modelSpec));
  const keys = repeatedFieldKeys();
  t.true(keys.length >= 8, keys.join(' '));
  for (const key of keys) t.true((limits.repeated[key] ?? 0) > 0, `${key} has a limit`);
});

test('repeated fields over their limit are refused by count, packed or not, before decoding', (t) => {
  const limits = runWireLimits('two-output', [100, 50]);
  t.like(scanFrame(hugeShapeFrame(5), limits), { code: 'ERR_MESSAGE_LIMIT', reason: 'Tensor.shape holds over 4 entries (5 so far)' });
  t.is(scanFrame(hugeShapeFrame(4), limits), undefined);
  // The same shape field written unpacked: one varint per field occurrence.
  const unpacked = concat(...Array.from({ length: 5 }, () => [...tag(2, 0), 1]));
  refused(t, scanFrame(envelope(BODY.gradients, field(3, unpacked)), limits), 'ERR_MESSAGE_LIMIT', /Tensor\.shape holds over 4/);
  t.like(scanFrame(manyTensorsFrame(9, 1), limits), { code: 'ERR_MESSAGE_LIMIT', reason: 'Gradients.grads holds over 8 entries (9 so far)' });
  t.is(scanFrame(manyTensorsFrame(8, 4), limits), undefined);
  const indices = encodeMessage({ type: 'step', taskId: taskId(1), stepId: stepId(1), epoch: 0, weightsVersion: 1, augment: false,
    augmentSeed: 1, lossWeights: new Map(), sampleIndices: new Uint32Array(101) });
  t.like(decodeMessage(indices, limits), { ok: false, code: 'ERR_MESSAGE_LIMIT', reason: 'StepAssignment.sampleIndices holds over 100 entries (101 so far)' });
  const longName = encodeMessage({ type: 'hello', protocolVersion: 1, backend: 'wasm', datasetFingerprint: 'x', workerName: 'w'.repeat(257),
    modelKind: 'two-output', host: 'h', pid: 1 });
  t.like(decodeMessage(longName, limits), { ok: false, code: 'ERR_MESSAGE_LIMIT', reason: 'Hello.workerName holds 257 bytes, the limit is 256' });
  const bigData = envelope(BODY.gradients, field(3, field(3, new Uint8Array(4 * 2_097_152 + 4))));
  refused(t, scanFrame(bigData, limits), 'ERR_MESSAGE_LIMIT', /Tensor\.data holds 8388612 bytes, the limit is 8388608/);
});

test('a 50-million-entry shape is refused by the walk without building it', (t) => {
  const frame = hugeShapeFrame(50_000_000);
  const before = process.memoryUsage().heapUsed;
  const decoded = decodeMessage(frame, { ...runWireLimits('two-output', [100, 50]), maxMessageBytes: 2 ** 30 });
  const grown = process.memoryUsage().heapUsed - before;
  t.like(decoded, { ok: false, code: 'ERR_MESSAGE_LIMIT', reason: 'Tensor.shape holds over 4 entries (50000000 so far)' });
  t.true(grown < 20e6, `heap grew ${grown} bytes`);
  refused(t, decodeMessage(frame, runWireLimits('two-output', [100, 50])), 'ERR_MESSAGE_LIMIT', /^frame of 50000017 bytes, the limit is \d+$/);
});

test('what the protocol never sends is refused: groups, deep nesting, wrong wire types, torn lengths', (t) => {
  const limits = runWireLimits('two-output', [100, 50]);
  for (const depth of [1, 100_000]) {
    refused(t, decodeMessage(nestedGroups(depth), limits), 'ERR_BAD_MESSAGE', /group \(wire type 3\) in field 99/);
  }
  // A string field sent as a varint: protobufjs would read a length from the next bytes.
  refused(t, scanFrame(envelope(BODY.hello, concat(tag(4, 0), [5])), limits), 'ERR_BAD_MESSAGE', /Hello\.workerName has wire type 0/);
  refused(t, scanFrame(envelope(BODY.gradients, concat(tag(3, 2), varint(1000), [1, 2])), limits), 'ERR_BAD_MESSAGE', /runs past the end/);
  t.like(scanFrame(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), limits), { code: 'ERR_BAD_MESSAGE' });
  // Unknown fields are skipped, as protobufjs skips them: forward compatible, and nothing is built from them.
  t.is(scanFrame(concat(envelope(BODY.gradients, new Uint8Array(0)), field(77, new Uint8Array(1000))), limits), undefined);
});

test('routing peeks only at the envelope: which body, and at most one', (t) => {
  t.like(peekEnvelope(hugeShapeFrame(1000)), { ok: true, body: 'gradients' });
  t.like(peekEnvelope(encodeMessage({ type: 'eval-result', taskId: taskId(1), sampleCount: 1, heads: [] })), { ok: true, body: 'eval-result' });
  const types = new Set(BODY_FIELDS.values());
  // Every message type of the program (the Record makes the compiler list them all) is a body of the envelope.
  const ALL_TYPES: Record<MessageType, true> = { 'hello': true, 'welcome': true, 'refused': true, 'step': true, 'gradients': true,
    'weights': true, 'eval-request': true, 'eval-result': true, 'heartbeat': true, 'shutdown': true, 'error': true, 'goodbye': true,
    'dataset-request': true, 'dataset-chunk': true, 'update': true };
  for (const type of Object.keys(ALL_TYPES)) t.true(types.has(type as MessageType), `${type} is a body of the envelope`);
  t.is(types.size, Object.keys(ALL_TYPES).length, 'and the envelope has no other body');
  t.like(peekEnvelope(new Uint8Array(0)), { ok: false, code: 'ERR_UNKNOWN_MESSAGE', reason: 'envelope has no message body' });
  const twoBodies = concat(envelope(BODY.hello, new Uint8Array(0)), field(BODY.gradients, new Uint8Array(0)));
  refused(t, peekEnvelope(twoBodies), 'ERR_BAD_MESSAGE', /both hello and gradients/);
  t.like(decodeMessage(twoBodies), { ok: false, code: 'ERR_BAD_MESSAGE' });
});
