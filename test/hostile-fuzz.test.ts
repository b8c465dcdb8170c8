import test from 'ava';
import { mulberry32 } from '../shared/common/seeded-random.js';
import { Coordinator } from '../coordinator/coordinator.js';
import { stepId, taskId } from '../shared/protocol/ids.js';
import { encodeMessage } from '../shared/protocol/codec.js';
import type { Message } from '../shared/protocol/messages.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog } from './helpers/log-capture.js';
import { RawPeer, validHello, zeroGradients } from './helpers/raw-peer.js';

// Thousands of random and mutated frames, and a joined worker that answers every task with poison, thrown at a
// coordinator while it trains (loopback only). It must finish the run with the weights of an undisturbed one.


const SEED = 0x5eed;
const MAX_FRAMES = 3000;

test('a coordinator under fuzzing keeps training and reaches the undisturbed weights', async (t) => {
  const data = await omniglotSubset(2);
  const globalBatch = 64;
  const calm = await trainWith({ data, workers: 2, globalBatch });

  const log = captureLog('warn');
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 2, globalBatch, log: log.logger }));
  const workers = await startWorkers(coordinator.endpoint, data, 2);
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

  let training = true;
  const run = coordinator.train().finally(() => { training = false; });
  let sent = 0;
  const fuzzers = Array.from({ length: 4 }, () => new RawPeer(coordinator.endpoint));
  const fuzz = (async () => {
    while (training && sent < MAX_FRAMES) {
      const roll = random();
      const frame = roll < 0.15 ? Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))
        : roll < 0.3 ? pick(encoded) : mutate(pick(encoded));
      await pick(fuzzers).send(frame).catch(() => undefined);
      sent += 1;
      if (sent % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  // A worker that joins properly and then answers every task with poison; dropped past maxWorkerFaults, it
  // comes back on a fresh connection.
  let rejoins = 0;
  const poisoner = (async () => {
    while (training && rejoins < 20) {
      const peer = new RawPeer(coordinator.endpoint);
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

  const result = await run;
  await Promise.all([fuzz, poisoner]);
  for (const f of fuzzers) f.close();
  await coordinator.close();
  await Promise.all(workers.map((w) => w.finished));

  t.false(result.stopped);
  t.is(result.state.globalStep, calm.state.globalStep, 'every step ran');
  t.true(sent >= 1000, `${sent} fuzz frames sent`);
  const diff = maxRelativeDifference(result.state.params, calm.state.params);
  t.true(diff < 1e-4, `max relative difference ${diff} after ${sent} fuzz frames`);
  const codes = new Set(log.lines.map((l) => l.code));
  for (const code of ['ERR_BAD_MESSAGE', 'ERR_NOT_REGISTERED', 'ERR_DATASET_MISMATCH', 'ERR_BAD_GRADIENTS']) {
    t.true(codes.has(code), `refusals logged with ${code}`);
  }
  t.log(`${sent} fuzz frames, ${rejoins} poisoner connections, ${log.lines.length} warning lines; codes: ${[...codes].join(' ')}`);
});
