import test from 'ava';
import { Dealer } from 'zeromq';
import { Coordinator } from '../coordinator/coordinator.js';
import { taskId, stepId, workerId } from '../shared/protocol/ids.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import type { Message } from '../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { decodeTensor, encodeTensor, TensorEncoding } from '../shared/protocol/tensor-codec.js';
import { DdpError } from '../shared/common/errors.js';
import { ddp } from '../proto/generated/ddp.js';
import { BODY, concat, envelope, field, tag, varint } from './helpers/wire-frames.js';
import { TrainingWorker } from '../worker/training-worker.js';
import { coordinatorOptions } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { silentLogger } from '../shared/common/logger.js';

const grads = [{ name: 'image.conv.bias', shape: [2, 2], data: Float32Array.from([1.5, -2, 3e-8, Number.MAX_VALUE]) }];
const heads = [{ head: 'alphabet', lossSum: 3.25, correct: 2, count: 5 }] as const;

const EXAMPLES: readonly Message[] = [
  { type: 'hello', protocolVersion: PROTOCOL_VERSION, backend: 'wasm', datasetFingerprint: 'ab'.repeat(32), workerName: 'w', modelKind: 'two-output', host: 'h', pid: 12 },
  { type: 'welcome', workerId: workerId('w3'), heartbeatIntervalMs: 250, workerTimeoutMs: 4000, modelKind: 'two-input' },
  { type: 'refused', code: 'ERR_PROTOCOL_VERSION', reason: 'because' },
  { type: 'step', taskId: taskId(2 ** 33), stepId: stepId(9), epoch: 3, weightsVersion: 10, sampleIndices: Uint32Array.from([5, 0, 15423]),
    lossWeights: new Map([['alphabet', 0.33], ['character', 0.67]]), augment: true, augmentSeed: 42 },
  { type: 'gradients', taskId: taskId(1), stepId: stepId(2), sampleCount: 5, grads, heads, computeMs: 12.5 },
  { type: 'weights', version: 4, tensors: grads },
  { type: 'eval-request', taskId: taskId(3), split: 'test', sampleIndices: Uint32Array.from([1, 2]), weightsVersion: 4 },
  { type: 'eval-result', taskId: taskId(3), sampleCount: 5, heads, agreement: { agree: 1, impliedCorrect: 2, count: 5 } },
  { type: 'heartbeat' },
  { type: 'shutdown', reason: 'done', resumable: true },
  { type: 'error', code: 'ERR_COMPUTE', message: 'oops', taskId: taskId(8) },
  { type: 'goodbye', reason: 'SIGTERM' },
];

test('every message survives a round trip through its protobuf envelope', (t) => {
  for (const message of EXAMPLES) {
    const decoded = decodeMessage(encodeMessage(message));
    t.true(decoded.ok, message.type);
    if (decoded.ok) {
      t.is(decoded.protocolVersion, PROTOCOL_VERSION);
      t.deepEqual(decoded.message, message, message.type);
    }
  }
});

test('tensors travel as raw little-endian float32 bytes', (t) => {
  const wire = encodeTensor(grads[0]!);
  t.is(wire.data.byteLength, 16);
  t.deepEqual([...wire.data.subarray(0, 4)], [0x00, 0x00, 0xc0, 0x3f]); // 1.5f little-endian
  t.throws(() => decodeTensor({ ...wire, data: wire.data.subarray(0, 12) }), { message: /needs 16 bytes, got 12/ });
  t.throws(() => decodeTensor({ ...wire, shape: [2 ** 20, 2 ** 20] }), { message: /exceeds/ });
});

test('a tensor says its encoding: FLOAT32_LE, the default, round-trips; an unknown one is refused with its code', (t) => {
  const tensor = (encoding?: number) => ddp.v1.Tensor.encode({ ...encodeTensor(grads[0]!), shape: [2, 2],
    ...(encoding === undefined ? {} : { encoding }) }).finish();
  const weights = (tensorBytes: Uint8Array) => envelope(BODY.weights, concat(tag(1, 0), varint(1), field(2, tensorBytes)));
  // Our encoder leaves the default off the wire (older peers see the same bytes); written out, it reads the same.
  t.deepEqual([...weights(tensor())], [...encodeMessage({ type: 'weights', version: 1, tensors: grads })]);
  const explicitDefault = concat(tensor(), tag(4, 0), varint(TensorEncoding.FLOAT32_LE));
  for (const frame of [weights(tensor()), weights(explicitDefault)]) {
    t.like(decodeMessage(frame), { ok: true, message: { type: 'weights', version: 1, tensors: grads } });
  }
  const unknown = decodeMessage(weights(tensor(7)));
  t.like(unknown, { ok: false, code: 'ERR_TENSOR_ENCODING' });
  t.regex(unknown.ok ? '' : unknown.reason, /tensor 'image\.conv\.bias' has encoding 7; this side reads only FLOAT32_LE/);
  // The step exchange's tensors (here the optimizer state sent with full weights) are held to the same rule.
  const inState = envelope(BODY.weights, concat(tag(1, 0), varint(1), field(2, tensor()), field(3, tensor(7))));
  t.like(decodeMessage(inState), { ok: false, code: 'ERR_TENSOR_ENCODING' });
  t.throws(() => decodeTensor({ ...encodeTensor(grads[0]!), encoding: 2 }), { instanceOf: DdpError, message: /encoding 2/ });
});

test('garbage and half-valid envelopes decode to a reason, never a throw', (t) => {
  const garbage = decodeMessage(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
  t.false(garbage.ok);
  t.like(garbage, { code: 'ERR_BAD_MESSAGE' });
  const empty = decodeMessage(new Uint8Array(0));
  t.like(empty, { ok: false, code: 'ERR_UNKNOWN_MESSAGE', reason: 'envelope has no message body' });
  const badHead = decodeMessage(encodeMessage({ ...EXAMPLES[7]!, heads: [{ head: 'colour' as 'alphabet', lossSum: 1, correct: 0, count: 1 }] } as Message));
  t.like(badHead, { ok: false, reason: "head stat names an unknown head 'colour'" });
});

test('a peer with another protocol version is refused with a clear message', async (t) => {
  const data = await omniglotSubset(2);
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1 }));
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(coordinator.endpoint);
  try {
    const hello: Message = { type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, backend: 'wasm', datasetFingerprint: data.fingerprint,
      workerName: 'future', modelKind: 'two-output', host: 'h', pid: 1 };
    await dealer.send(encodeMessage(hello, PROTOCOL_VERSION + 1));
    const [frame] = await dealer.receive();
    const reply = decodeMessage(frame!);
    t.like(reply, { ok: true, message: { type: 'refused', code: 'ERR_PROTOCOL_VERSION' } });
    t.regex(reply.ok && reply.message.type === 'refused' ? reply.message.reason : '', new RegExp(`protocol version ${PROTOCOL_VERSION + 1}.*speaks ${PROTOCOL_VERSION}`));
    t.is(coordinator.liveWorkers(), 0);
  } finally {
    dealer.close();
    await coordinator.close();
  }
});

test('a worker that loaded another dataset is refused and says why', async (t) => {
  const data = await omniglotSubset(2);
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1 }));
  try {
    const worker = await TrainingWorker.start({ connect: coordinator.endpoint, data: { ...data, fingerprint: '00'.repeat(32) },
      backend: 'auto', modelKind: 'two-output', name: 'stale-data', log: silentLogger(), security: { kind: 'plain' } });
    const exit = await worker.finished;
    t.like(exit, { kind: 'refused', code: 'ERR_DATASET_MISMATCH' });
    t.regex(exit.kind === 'refused' ? exit.reason : '', /dataset fingerprint 0000000000000000 differs/);
  } finally {
    await coordinator.close();
  }
});
