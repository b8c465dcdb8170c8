import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { RunEvent } from '../coordinator/observe/run-events.js';
import { EVENT_FILE_PREFIX, TensorBoardWriter } from '../coordinator/observe/tensorboard/tensorboard-writer.js';
import { crc32cReference, readTfEvents, readTfEventsFile } from './helpers/tfevents-reader.js';

test('the reference CRC32C matches the published check value', (t) => {
  // CRC-32C of "123456789" is 0xE3069283 (RFC 3720, B.4).
  t.is(crc32cReference(Buffer.from('123456789')), 0xe3069283);
});

test('TensorBoard scalars read back with an independent reader: tags, steps, values; a flipped byte fails its CRC', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tfevents-'));
  try {
    const writer = TensorBoardWriter.inFolder(dir, new Date(1_700_000_000_000));
    const steps: RunEvent[] = [1, 2, 3].map((n) => ({ kind: 'step', seq: n, at: 1_700_000_000_000 + n * 1000, epoch: 0, stepInEpoch: n,
      stepsPerEpoch: 3, globalStep: n, samples: 16, stepMs: 50 + n, learningRate: 0.01 / n, lossWeights: { alphabet: 1, character: 0.5 },
      heads: [{ head: 'alphabet', loss: 3 - n * 0.5, accuracy: n / 10 }, { head: 'character', loss: 6 - n, accuracy: 0 }], workers: 2 }));
    for (const e of steps) writer.observe(e);
    writer.observe({ kind: 'epoch', seq: 4, at: 1_700_000_004_000, epoch: 0, globalStep: 3, train: [{ head: 'alphabet', loss: 2, accuracy: 0.25 }],
      test: [{ head: 'alphabet', loss: 1.75, accuracy: 0.375 }], samplesPerSecond: 123.5, wallMs: 3000, workers: 2 });
    writer.observe({ kind: 'worker-left', seq: 5, at: 1, worker: 'x', id: 'w1', tasks: 0 });
    await writer.close();
    const files = (await readdir(dir)).filter((f) => f.startsWith(EVENT_FILE_PREFIX));
    t.is(files.length, 1);
    t.regex(files[0]!, /^events\.out\.tfevents\.1700000000\./);
    const events = await readTfEventsFile(path.join(dir, files[0]!));
    t.is(events[0]!.fileVersion, 'brain.Event:2');
    t.is(events.length, 1 + 3 + 1);
    const series = (tag: string) => events.flatMap((e) => e.scalars.filter((s) => s.tag === tag).map((s) => [e.step, s.value]));
    t.deepEqual(series('loss/alphabet/step'), [[1, 2.5], [2, 2], [3, 1.5]]);
    t.deepEqual(series('optimizer/loss_weight/character'), [[1, 0.5], [2, 0.5], [3, 0.5]]);
    t.deepEqual(series('accuracy/alphabet/test'), [[3, 0.375]]);
    t.deepEqual(series('throughput/samples_per_second'), [[3, 123.5]]);
    // float32 on the wire: 0.01 / 3 comes back rounded.
    t.true(Math.abs(series('optimizer/learning_rate')[2]![1]! - 0.01 / 3) < 1e-9);
    t.is(events[1]!.wallTime, 1_700_000_001);

    const bytes = await readFile(path.join(dir, files[0]!));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0x40, bytes.length - 10);
    t.throws(() => readTfEvents(bytes), { message: /record 4: data CRC mismatch/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
