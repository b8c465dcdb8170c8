import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { stepId, taskId } from '../shared/protocol/ids.js';
import { encodeMessage } from '../shared/protocol/codec.js';
import { float32ToBytes } from '../shared/common/float32-bytes.js';
import { coordinatorOptions, maxRelativeDifference } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, refusal } from './helpers/log-capture.js';
import { RawPeer, rawEnvelope, validHello, zeroGradients } from './helpers/raw-peer.js';

// Each kind of hostile or broken input, sent by hand over a real socket: the coordinator refuses it with a log line
// naming the sender and the reason (asserted by code and reason), keeps running, and none of it reaches the weights.

test('input from peers that never joined is refused, and bad hellos are refused with the reason', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, log: log.logger }));
  const peer = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(new Uint8Array([0xff, 0xff, 0xff, 0x07, 0x01]));
    const bad = await log.waitFor(refusal('ERR_BAD_MESSAGE', 'not a protocol envelope'));
    t.regex(String(bad['routingId']), /^[0-9a-f]+$/, 'names the sender');

    await peer.send(rawEnvelope({ protocolVersion: 1 }));
    await log.waitFor(refusal('ERR_UNKNOWN_MESSAGE', 'envelope has no message body'));

    await peer.send({ type: 'heartbeat' });
    const stranger = await log.waitFor((l) => l.code === 'ERR_NOT_REGISTERED');
    t.is(stranger['type'], 'heartbeat');
    t.is((await peer.next('refused')).code, 'ERR_NOT_REGISTERED');
    // Gradients from a stranger are dropped (they may be a lost worker's late answer) and never counted.
    await peer.send(zeroGradients(1, 0, 4));
    await log.waitFor((l) => l.code === 'ERR_STALE_TASK' && String(l.msg).includes('not registered'));
    t.is((await peer.next('refused')).code, 'ERR_NOT_REGISTERED');

    await peer.send(validHello(data, 'two-output', { protocolVersion: 99 }));
    const version = await log.waitFor((l) => l.code === 'ERR_PROTOCOL_VERSION');
    t.regex(String(version.reason), /protocol version 99 .*coordinator speaks 1/);
    t.is(version['workerName'], 'raw-peer');
    t.is((await peer.next('refused')).code, 'ERR_PROTOCOL_VERSION');

    await peer.send(encodeMessage(validHello(data), 7));
    await log.waitFor(refusal('ERR_PROTOCOL_VERSION', '(envelope 7)'));
    t.is((await peer.next('refused')).code, 'ERR_PROTOCOL_VERSION');

    await peer.send(validHello(data, 'two-output', { datasetFingerprint: 'f'.repeat(64) }));
    await log.waitFor(refusal('ERR_DATASET_MISMATCH', `dataset fingerprint ${'f'.repeat(16)} differs`));
    t.is((await peer.next('refused')).code, 'ERR_DATASET_MISMATCH');

    await peer.send(validHello(data, 'two-input'));
    await log.waitFor(refusal('ERR_MODEL_MISMATCH', "model 'two-input' differs"));
    t.is(coordinator.liveWorkers(), 0, 'nobody joined');
  } finally {
    peer.close();
    await coordinator.close();
  }
});

test('bad gradients from a joined worker are refused one by one and never reach the weights', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  // Dense gradient sums are central SGD's answer format; factored answers have their own test (factored-exchange).
  const options = coordinatorOptions({ data, workers: 1, globalBatch: 16, log: log.logger,
    overrides: { maxWorkerFaults: 100, workerTimeoutMs: 20_000, exchange: 'central-sgd' } });
  const coordinator = await Coordinator.start({ ...options, onStep: () => coordinator.stop('one step is enough') });
  const peer = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(validHello(data));
    await peer.next('welcome');
    const training = coordinator.train();
    const step = await peer.next('step');
    const n = step.sampleIndices.length;
    const good = zeroGradients(step.taskId, step.stepId, n);
    // A refused answer is taken back and reassigned; this peer is the only worker, so it gets the samples again.
    const nextTask = async () => (await peer.next('step')).taskId;
    let task = step.taskId;

    const renamed = { ...good, taskId: task, grads: good.grads.map((g, i) => (i === 0 ? { ...g, name: 'evil' } : g)) };
    await peer.send(renamed);
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', "gradient 0 is named 'evil'"));
    task = await nextTask();

    const reshaped = { ...good, taskId: task, grads: good.grads.map((g, i) => (i === 0 ? { ...g, shape: [g.data.length] } : g)) };
    await peer.send(reshaped);
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', `has shape [${good.grads[0]!.data.length}]`));
    task = await nextTask();

    await peer.send({ ...good, taskId: task, stepId: stepId(good.stepId + 5) });
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', `gradients say step ${good.stepId + 5}`));
    task = await nextTask();

    const missing = { ...good, taskId: task, grads: good.grads.slice(1) };
    await peer.send(missing);
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', `${good.grads.length - 1} gradient tensors`));
    task = await nextTask();

    for (const [value, text] of [[Number.NaN, 'NaN'], [Number.POSITIVE_INFINITY, 'Infinity'], [Number.NEGATIVE_INFINITY, '-Infinity']] as const) {
      const poisoned = zeroGradients(task, step.stepId, n);
      poisoned.grads[2]!.data[5] = value;
      await peer.send(poisoned);
      await log.waitFor(refusal('ERR_BAD_GRADIENTS', `non-finite value (${text}) at 5`));
      task = await nextTask();
    }

    await peer.send({ ...good, taskId: task, sampleCount: n + 1 });
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', `head 'alphabet' counts ${n}`));
    task = await nextTask();

    // Byte length that disagrees with the shape: refused while decoding, before any allocation from the shape.
    const first = good.grads[0]!;
    await peer.send(rawEnvelope({ protocolVersion: 1, gradients: { taskId: task, stepId: step.stepId, sampleCount: n,
      grads: [{ name: first.name, shape: [...first.shape], data: float32ToBytes(first.data).subarray(4) }] } }));
    const bytes = await log.waitFor(refusal('ERR_BAD_MESSAGE', `needs ${first.data.length * 4} bytes, got ${first.data.length * 4 - 4}`));
    t.truthy(bytes['worker'], 'names the worker');
    await peer.send(rawEnvelope({ protocolVersion: 1, gradients: { taskId: task, grads: [{ name: 'x', shape: [1 << 20, 1 << 20], data: new Uint8Array(4) }] } }));
    await log.waitFor(refusal('ERR_BAD_MESSAGE', 'exceeds'));

    // Answers for tasks that are not pending (an old step, or never assigned) are dropped.
    await peer.send({ ...good, taskId: step.taskId });
    await log.waitFor((l) => l.code === 'ERR_STALE_TASK' && l['task'] === step.taskId);
    await peer.send({ ...good, taskId: taskId(987654) });
    await log.waitFor((l) => l.code === 'ERR_STALE_TASK' && l['task'] === 987654);

    // Coordinator-only messages and another envelope version, from a joined worker.
    await peer.send({ type: 'weights', version: 1, tensors: good.grads });
    await log.waitFor(refusal('ERR_UNKNOWN_MESSAGE', "'weights' is not a worker message"));
    await peer.send(encodeMessage({ type: 'heartbeat' }, 3));
    await log.waitFor(refusal('ERR_PROTOCOL_VERSION', 'envelope version 3'));

    // Finally a valid answer: zero gradients, so the step must leave the weights exactly as they were.
    await peer.send({ ...good, taskId: task });
    const result = await training;
    t.true(result.stopped);
    t.is(result.state.globalStep, 1, 'the step completed');
    t.is(maxRelativeDifference(result.state.params, options.initialParams), 0, 'no refused value reached the weights');
  } finally {
    peer.close();
    await coordinator.close();
  }
});

test('a worker that keeps sending bad input is disconnected and told why', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, log: log.logger,
    overrides: { maxWorkerFaults: 2 } }));
  const peer = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(validHello(data));
    await peer.next('welcome');
    for (let i = 0; i < 3; i++) await peer.send(new Uint8Array([0x0a, 0xff]));
    const dropped = await log.waitFor((l) => l.code === 'ERR_TOO_MANY_FAULTS');
    t.is(dropped['faults'], 3);
    const refused = await peer.next('refused');
    t.is(refused.code, 'ERR_TOO_MANY_FAULTS');
    t.is(coordinator.liveWorkers(), 0);
    await peer.send({ type: 'heartbeat' });
    await log.waitFor((l) => l.code === 'ERR_NOT_REGISTERED');
  } finally {
    peer.close();
    await coordinator.close();
  }
});
