import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { taskId } from '../shared/protocol/ids.js';
import { encodeMessage } from '../shared/protocol/codec.js';
import { runWireLimits } from '../shared/protocol/wire-limits.js';
import { readWeightsFile } from '../coordinator/weights-file.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { lineWhileAlive, startCoordinatorProcess } from './helpers/coordinator-process.js';
import { silentLogger } from '../shared/common/logger.js';
import { TrainingWorker } from '../worker/training-worker.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, refusal, type LogLine } from './helpers/log-capture.js';
import { reap } from './helpers/processes.js';
import { RawPeer, validHello } from './helpers/raw-peer.js';
import { BODY, concat, envelope, field, hugeShapeFrame, manyTensorsFrame } from './helpers/wire-frames.js';

// Frames sized to hurt: bounds are checked before anything proportional to a field is built, echoed values are cut
// short, and a worker's fault record outlives its hellos (issue 15, items 1-3). Memory is measured on a coordinator
// in its own process (the first test); in-process tests share their RSS with the frames they build.

/** No refusal may echo a hostile value at length: one line per refusal, each under this many bytes. */
const MAX_LINE_BYTES = 2048;
const longest = (lines: readonly LogLine[]): number => Math.max(...lines.map((l) => JSON.stringify(l).length));

test('a 115-million-entry shape from a peer that never said hello: the coordinator process survives and trains to the undisturbed weights', async (t) => {
  const data = await omniglotSubset(2);
  const globalBatch = 64;
  const calm = await trainWith({ data, workers: 2, globalBatch });
  const weightsOut = path.join(mkdtempSync(path.join(tmpdir(), 'omniglot-ddp-attacked-')), 'weights.bin');
  // The coordinator runs alone in a child: before the fix this frame ended it with a V8 fatal error (exit 133).
  const { child, endpoint } = await startCoordinatorProcess({ data: { fingerprint: data.fingerprint, train: { size: data.train.size }, test: { size: data.test.size } },
    workers: 2, globalBatch, weightsOut });
  const attacker = new RawPeer(endpoint);
  try {
    const workers = await startWorkers(endpoint, data, 2);
    await lineWhileAlive(child, (l) => l.msg === 'step done');
    const frame = hugeShapeFrame(115_000_000);
    t.true(frame.byteLength > 115e6);
    await attacker.send(frame);
    const dropped = await lineWhileAlive(child, (l) => l.code === 'ERR_CONNECTION_DROPPED');
    t.true(Number(dropped['maxMessageBytes']) < 10e6, `libzmq dropped the connection at ${String(dropped['maxMessageBytes'])} bytes`);
    // Under the size limit, a stranger's frame is refused by its envelope alone: the 8-million-entry shape is never read.
    await attacker.send(hugeShapeFrame(8_000_000));
    const stale = await lineWhileAlive(child, (l) => l.code === 'ERR_STALE_TASK' && l['type'] === 'gradients' && String(l.msg).includes('not registered'));
    // The workers' own connections close at the end of the run; during it, only the attacker's was dropped.
    const drops = child.log.lines.filter((l) => l.code === 'ERR_CONNECTION_DROPPED' && Number(l['at']) <= Number(stale['at']));
    t.is(drops.length, 1, 'one line for the dropped connection');
    t.is(await child.exited, 0, 'the coordinator process finished the run');
    await Promise.all(workers.map((w) => w.finished));
    const done = child.log.matching('child done')[0];
    t.is(done?.['globalStep'], calm.state.globalStep, 'every step ran');
    const diff = maxRelativeDifference(await readWeightsFile(weightsOut), calm.state.params);
    t.true(diff < 1e-6, `max relative difference ${diff}`);
    t.true(longest(child.log.lines) < MAX_LINE_BYTES, `longest line ${longest(child.log.lines)} bytes`);
    const peakKb = Number(done?.['peakRssKb']);
    t.true(peakKb < 1024 * 1024, `coordinator peak RSS ${Math.round(peakKb / 1024)} MiB`);
    t.log(`coordinator process peak RSS (VmHWM) ${Math.round(peakKb / 1024)} MiB under a 115 MB frame and an 8 MB one`);
  } finally {
    attacker.close();
    await reap([child]);
  }
});

test('huge repeated fields from a joined worker are refused by count before decoding, each in one short line', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const options = coordinatorOptions({ data, workers: 1, log: log.logger, overrides: { maxWorkerFaults: 100, workerTimeoutMs: 60_000 } });
  const coordinator = await Coordinator.start(options);
  const limits = runWireLimits(options.modelKind, [data.train.size, data.test.size]);
  const peer = new RawPeer(coordinator.endpoint);
  const stranger = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(validHello(data));
    await peer.next('welcome');
    await peer.send(hugeShapeFrame(8_000_000));
    await log.waitFor(refusal('ERR_MESSAGE_LIMIT', 'Tensor.shape holds over 4 entries'));
    await peer.send(hugeShapeFrame(8_000_000, BODY.weights));
    await log.waitFor((l) => log.lines.filter(refusal('ERR_MESSAGE_LIMIT', 'Tensor.shape holds over 4 entries')).length === 2 && l.code === 'ERR_MESSAGE_LIMIT');
    await peer.send(manyTensorsFrame(200_000, 4));
    await log.waitFor(refusal('ERR_MESSAGE_LIMIT', 'Gradients.grads holds over 8 entries'));
    await peer.send({ type: 'error', code: 'ERR_COMPUTE', message: 'x'.repeat(1024), taskId: taskId(1) });
    const failed = await log.waitFor((l) => l.msg === 'worker failed a task');
    t.true(String(failed['message']).length < 300, 'the worker\'s error text is cut');
    await peer.send({ type: 'error', code: 'ERR_COMPUTE', message: 'x'.repeat(1025), taskId: taskId(1) });
    await log.waitFor(refusal('ERR_MESSAGE_LIMIT', 'Error.message holds 1025 bytes, the limit is 1024'));
    // A frame of exactly the limit (a heartbeat padded with an unknown field) is read; one byte more is not.
    const heartbeat = encodeMessage({ type: 'heartbeat', sentAtMs: 1 });
    // Field 99's header: a 2-byte tag and a 4-byte length (for payloads of 2^21 to 2^28 bytes).
    const padTo = (size: number) => concat(heartbeat, field(99, new Uint8Array(size - heartbeat.length - 2 - 4)));
    const atLimit = padTo(limits.maxMessageBytes);
    t.is(atLimit.byteLength, limits.maxMessageBytes);
    const refusalsBefore = log.lines.filter((l) => l.code).length;
    await peer.send(atLimit);
    await peer.send({ type: 'heartbeat', sentAtMs: 2 });
    await new Promise((r) => setTimeout(r, 300));
    t.is(log.lines.filter((l) => l.code).length, refusalsBefore, 'a frame at the limit is accepted');
    // Strangers: a hello over its bound is refused unread; anything else is named by its envelope only.
    const bigHello = envelope(BODY.hello, field(4, new Uint8Array(limits.maxHelloBytes)));
    await stranger.send(bigHello);
    await log.waitFor(refusal('ERR_MESSAGE_LIMIT', `hello of ${bigHello.byteLength} bytes, the limit is ${limits.maxHelloBytes}`));
    await stranger.send(hugeShapeFrame(8_000_000));
    await log.waitFor((l) => l.code === 'ERR_STALE_TASK' && l['type'] === 'gradients');
    await peer.send(padTo(limits.maxMessageBytes + 1));
    await log.waitFor((l) => l.code === 'ERR_CONNECTION_DROPPED');
    t.true(longest(log.lines) < MAX_LINE_BYTES, `longest line ${longest(log.lines)} bytes`);
    t.is(coordinator.liveWorkers(), 1, 'the refusals were faults, not a reason to crash or drop the worker');
  } finally {
    peer.close();
    stranger.close();
    await coordinator.close();
  }
});

test('a worker\'s fault record survives a new hello, and past the limit it may not rejoin', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, log: log.logger, overrides: { maxWorkerFaults: 2 } }));
  const hello = validHello(data, 'two-output', { workerName: 'repeat-offender', host: 'h1', pid: 77 });
  const first = new RawPeer(coordinator.endpoint);
  const second = new RawPeer(coordinator.endpoint);
  const other = new RawPeer(coordinator.endpoint);
  try {
    await first.send(hello);
    await first.next('welcome');
    for (let i = 0; i < 2; i++) await first.send(new Uint8Array([0x0a, 0xff]));
    await log.waitFor((l) => log.lines.filter((x) => x.code === 'ERR_BAD_MESSAGE').length === 2 && l.code === 'ERR_BAD_MESSAGE');
    // Hello again, as the peer did eight times: the two faults stay on the record.
    await first.send(hello);
    await first.next('welcome');
    await first.send(new Uint8Array([0x0a, 0xff]));
    const dropped = await log.waitFor((l) => l.code === 'ERR_TOO_MANY_FAULTS');
    t.is(dropped['faults'], 3, 'the count went on from before the new hello');
    t.is((await first.next('refused')).code, 'ERR_TOO_MANY_FAULTS');
    // A fresh connection of the same worker is refused at its hello.
    await second.send(hello);
    t.like(await second.next('refused'), { code: 'ERR_TOO_MANY_FAULTS', reason: '3 bad messages earlier in this run: this worker may not rejoin' });
    await log.waitFor((l) => l.msg === 'refused worker' && l.code === 'ERR_TOO_MANY_FAULTS');
    await other.send(validHello(data, 'two-output', { workerName: 'innocent', host: 'h1', pid: 78 }));
    await other.next('welcome');
    t.is(coordinator.liveWorkers(), 1, 'another worker still joins');
  } finally {
    for (const p of [first, second, other]) p.close();
    await coordinator.close();
  }
});

test('hellos faster than the rate are refused, per connection and per worker identity', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, log: log.logger }));
  const shifty = new RawPeer(coordinator.endpoint);
  const connections = Array.from({ length: 11 }, () => new RawPeer(coordinator.endpoint));
  try {
    // One connection that claims a new identity with every hello.
    for (let pid = 1; pid <= 11; pid++) await shifty.send(validHello(data, 'two-output', { pid, workerName: 'shifty' }));
    const limited = await log.waitFor(refusal('ERR_HELLO_RATE', 'from one connection'));
    t.is(limited['workerPid'], 11);
    t.is((await shifty.next('refused')).code, 'ERR_HELLO_RATE');
    // One identity on eleven fresh connections.
    for (const c of connections) await c.send(validHello(data, 'two-output', { workerName: 'hydra', pid: 99 }));
    await log.waitFor(refusal('ERR_HELLO_RATE', 'from one worker'));
    t.is(log.lines.filter((l) => l.code === 'ERR_HELLO_RATE').length, 2, 'the eleventh hello of each is refused, the first ten are not');
  } finally {
    shifty.close();
    for (const c of connections) c.close();
    await coordinator.close();
  }
});

test('a real worker refused for the hello rate waits and joins later instead of exiting', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, log: log.logger }));
  const impostor = new RawPeer(coordinator.endpoint);
  try {
    // Keep the identity's bucket empty while the worker below (host/pid/name 'patient' of this process) starts its
    // compute thread, which takes seconds: its hello, sent as start() resolves, then finds no token left.
    const hello = validHello(data, 'two-output', { workerName: 'patient', host: hostname(), pid: process.pid });
    let started = false;
    const starting = TrainingWorker.start({ connect: coordinator.endpoint, data, backend: 'auto', modelKind: 'two-output',
      name: 'patient', log: silentLogger(), security: { kind: 'plain' }, coordinatorTimeoutMs: 2500 }).finally(() => {
      started = true;
    });
    while (!started) {
      await impostor.send(hello);
      await new Promise((r) => setTimeout(r, 50));
    }
    const worker = await starting;
    const joinedBefore = log.matching('worker joined').filter((l) => l['backend'] !== 'raw').length;
    t.is(joinedBefore, 0, 'the real worker was not admitted at once');
    await log.waitFor((l) => l.msg === 'refused worker' && l.code === 'ERR_HELLO_RATE');
    const joined = await log.waitFor((l) => l.msg === 'worker joined' && l['backend'] !== 'raw', 20_000);
    t.is(joined['workerName'], 'patient');
    t.is(await Promise.race([worker.finished.then(() => 'exited'), new Promise((r) => setTimeout(() => r('running'), 100))]), 'running');
    await worker.stop('done');
  } finally {
    impostor.close();
    await coordinator.close();
  }
});
