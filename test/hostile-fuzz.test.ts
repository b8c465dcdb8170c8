import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { mulberry32 } from '../shared/common/seeded-random.js';
import { stepId, taskId } from '../shared/protocol/ids.js';
import { encodeMessage } from '../shared/protocol/codec.js';
import type { Message } from '../shared/protocol/messages.js';
import { runWireLimits } from '../shared/protocol/wire-limits.js';
import { readWeightsFile } from '../coordinator/weights-file.js';
import { maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { startCoordinatorProcess } from './helpers/coordinator-process.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { reap } from './helpers/processes.js';
import { RawPeer, validHello, zeroGradients } from './helpers/raw-peer.js';
import { BODY, concat, envelope, field, hugeShapeFrame, manyTensorsFrame, nestedGroups, tag, varint } from './helpers/wire-frames.js';

// Thousands of random and mutated frames, structured ones among them (huge repeated fields, frames at and just over
// the size limit, deep nesting), and a joined worker that answers every task with poison, thrown at a coordinator
// process while it trains (loopback only). It must finish the run with the weights of an undisturbed one; its peak
// RSS is reported.


const SEED = 0x5eed;
const MAX_FRAMES = 3000;

test('a coordinator under fuzzing keeps training and reaches the undisturbed weights', async (t) => {
  const data = await omniglotSubset(2);
  const globalBatch = 64;
  const calm = await trainWith({ data, workers: 2, globalBatch });

  const weightsOut = path.join(mkdtempSync(path.join(tmpdir(), 'omniglot-ddp-fuzzed-')), 'weights.bin');
  const { child, endpoint } = await startCoordinatorProcess({ data: { fingerprint: data.fingerprint, train: { size: data.train.size },
    test: { size: data.test.size } }, workers: 2, globalBatch, weightsOut });
  const log = child.log;
  const limits = runWireLimits('two-output', [data.train.size, data.test.size]);
  const workers = await startWorkers(endpoint, data, 2);
  const random = mulberry32(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const small = [{ name: 'image.conv.kernel', shape: [2, 2], data: new Float32Array([1, 2, 3, Number.NaN]) }];
  // Valid envelopes of every type; the hellos never carry the run's fingerprint, so no mutation can join.
  const templates: Message[] = [
    validHello(data, 'two-output', { datasetFingerprint: '0'.repeat(64) }),
    validHello(data, 'two-output', { protocolVersion: 2, datasetFingerprint: 'x' }),
    { type: 'welcome', workerId: 'w1' as never, heartbeatIntervalMs: 10, workerTimeoutMs: 30, modelKind: 'two-output', seed: 1 },
    { type: 'refused', code: 'ERR_BAD_MESSAGE', reason: 'fuzz' },
    { type: 'step', taskId: taskId(1), stepId: stepId(0), epoch: 0, weightsVersion: 1, sampleIndices: new Uint32Array([1, 2]),
      lossWeights: new Map([['alphabet', 1]]), augment: false, augmentSeed: 1 },
    zeroGradients(1, 0, 4),
    { ...zeroGradients(2, 1, 4), grads: small },
    { type: 'weights', version: 3, tensors: small },
    { type: 'eval-request', taskId: taskId(3), split: 'test', sampleIndices: new Uint32Array([1]), weightsVersion: 1 },
    { type: 'eval-result', taskId: taskId(4), sampleCount: 2, heads: [{ head: 'alphabet', lossSum: 1, correct: 1, count: 2 }] },
    { type: 'heartbeat', sentAtMs: 5 },
    { type: 'shutdown', reason: 'fuzz', resumable: false },
    { type: 'error', code: 'ERR_COMPUTE', message: 'fuzz', taskId: taskId(1) },
    { type: 'goodbye', reason: 'fuzz' },
  ];
  const encoded = templates.map((m) => encodeMessage(m));
  // Typed-array copies, not spreads: the fuzzer shares the coordinator's thread, and spreading an 8 MB gradient frame
  // into a JS array held that thread for seconds, starving the coordinator's own liveness checks.
  const insert = (out: Uint8Array, at: number, bytes: readonly number[]): Uint8Array => {
    const grown = new Uint8Array(out.length + bytes.length);
    grown.set(out.subarray(0, at));
    grown.set(bytes, at);
    grown.set(out.subarray(at), at + bytes.length);
    return grown;
  };
  const mutate = (frame: Uint8Array): Uint8Array => {
    const out = new Uint8Array(frame);
    switch (Math.floor(random() * 4)) {
      case 0: for (let k = 0; k < 1 + random() * 4; k++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256); return out;
      case 1: return out.subarray(0, Math.floor(random() * out.length));
      case 2: return insert(out, 3, Array.from({ length: 8 }, () => Math.floor(random() * 256)));
      default: return encodeMessage(templates[Math.floor(random() * templates.length)]!, Math.floor(random() * 4));
    }
  };

  // Structured mutations: each aims at one bound (see shared/protocol/wire-limits.ts).
  const size = (most: number) => 1 + Math.floor(random() * most);
  const heartbeat = encodeMessage({ type: 'heartbeat', sentAtMs: 1 });
  // A heartbeat padded with an unknown field to `bytes` (2-byte tag, 4-byte length for payloads of 2^21..2^28 bytes).
  const padded = (bytes: number) => concat(heartbeat, field(99, new Uint8Array(bytes - heartbeat.length - 6)));
  let nested: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < 2000; i++) nested = field(9, nested);
  const structured: (() => Uint8Array)[] = [
    () => hugeShapeFrame(size(4_000_000), pick([BODY.gradients, BODY.weights])),
    () => manyTensorsFrame(size(100_000), 1 + Math.floor(random() * 6)),
    () => envelope(BODY.gradients, concat(...Array.from({ length: size(5000) }, () => field(4, field(1, [0x61]))))),
    () => envelope(BODY.hello, field(pick([2, 3, 4, 5, 6]), new Uint8Array(size(4 * limits.maxHelloBytes)))),
    () => padded(limits.maxMessageBytes),
    () => padded(limits.maxMessageBytes + 1),
    () => nestedGroups(size(100_000), pick([BODY.gradients, BODY.hello, 99])),
    // Length-delimited fields nested 2000 deep inside a tensor: unknown to the schema, skipped unread.
    () => envelope(BODY.gradients, field(3, nested)),
    () => concat(tag(1, 0), varint(1), tag(BODY.gradients, 2), varint(2 ** 31)),
  ];
  let structuredSent = 0;

  let training = true;
  const run = child.exited.finally(() => { training = false; });
  let sent = 0;
  const fuzzers = Array.from({ length: 4 }, () => new RawPeer(endpoint));
  const fuzz = (async () => {
    while (training && sent < MAX_FRAMES) {
      const roll = random();
      const frame = roll < 0.03 ? (structuredSent++, pick(structured)()) : roll < 0.15 ? Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))
        : roll < 0.3 ? pick(encoded) : mutate(pick(encoded));
      await pick(fuzzers).send(frame).catch(() => undefined);
      sent += 1;
      // Yield to the event loop now and then: the workers computing the run share this process with the fuzzers.
      if (sent % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  // A worker that joins properly and then answers every task with poison; dropped past maxWorkerFaults, it
  // comes back on a fresh connection.
  let rejoins = 0;
  const poisoner = (async () => {
    while (training && rejoins < 20) {
      const peer = new RawPeer(endpoint);
      rejoins += 1;
      try {
        await peer.send(validHello(data, 'two-output', { workerName: 'poisoner' }));
        await peer.next('welcome', 5000);
        for (;;) {
          const step = await peer.next('step', 2000).catch(() => undefined);
          if (!step) break;
          const g = zeroGradients(step.taskId, step.stepId, step.sampleIndices.length);
          g.grads[0]!.data[0] = Number.NaN;
          await peer.send(g);
        }
      } catch {
        // refused or quiet: join again
      } finally {
        peer.close();
      }
    }
  })();

  const exit = await run;
  await Promise.all([fuzz, poisoner]);
  for (const f of fuzzers) f.close();
  await reap([child]);
  await Promise.all(workers.map((w) => w.finished));

  t.is(exit, 0, 'the coordinator process finished the run');
  const done = log.matching('child done')[0];
  t.is(done?.['stopped'], false);
  t.is(done?.['globalStep'], calm.state.globalStep, 'every step ran');
  t.true(sent >= 1000, `${sent} fuzz frames sent`);
  t.true(structuredSent >= 20, `${structuredSent} structured frames sent`);
  const diff = maxRelativeDifference(await readWeightsFile(weightsOut), calm.state.params);
  t.true(diff < 1e-4, `max relative difference ${diff} after ${sent} fuzz frames`);
  const codes = new Set(log.lines.map((l) => l.code));
  for (const code of ['ERR_BAD_MESSAGE', 'ERR_NOT_REGISTERED', 'ERR_DATASET_MISMATCH', 'ERR_BAD_GRADIENTS', 'ERR_MESSAGE_LIMIT', 'ERR_CONNECTION_DROPPED']) {
    t.true(codes.has(code), `refusals logged with ${code}`);
  }
  const longest = Math.max(...log.lines.map((l) => JSON.stringify(l).length));
  t.true(longest < 2048, `longest log line ${longest} bytes`);
  t.log(`${sent} fuzz frames (${structuredSent} structured), ${rejoins} poisoner connections, ${log.lines.length} log lines; codes: ${[...codes].join(' ')}`);
  t.log(`coordinator process peak RSS (VmHWM) ${Math.round(Number(done?.['peakRssKb']) / 1024)} MiB`);
});
