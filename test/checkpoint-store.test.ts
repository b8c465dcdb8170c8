import test from 'ava';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeCheckpoint, encodeCheckpoint } from '../coordinator/checkpoint-format.js';
import { checkResumable } from '../coordinator/checkpoint-resume.js';
import { CheckpointStore } from '../coordinator/checkpoint-store.js';
import { LossWeighting } from '../coordinator/loss-weighting.js';
import type { TrainingState } from '../coordinator/training-state.js';
import { DdpError } from '../shared/common/errors.js';
import { silentLogger } from '../shared/common/logger.js';
import { initialParams } from '../shared/model/initial-params.js';
import { coordinatorOptions } from './helpers/cluster.js';
import { captureLog } from './helpers/log-capture.js';

/** A small state whose numbers all depend on `step`, so each checkpoint is recognisable. */
function fakeState(step: number): TrainingState {
  const params = [
    { name: 'a', shape: [2, 3], data: Float32Array.from({ length: 6 }, (_, i) => step + i / 10) },
    { name: 'b', shape: [4], data: Float32Array.from({ length: 4 }, (_, i) => -step - i) },
  ];
  return { modelKind: 'two-output', datasetFingerprint: 'x', seed: 7, globalBatch: 32, epoch: Math.floor(step / 10), stepInEpoch: step % 10,
    globalStep: step, params, sgdState: params.map((p) => p.data.map((v) => v * 0.5)),
    lossWeighting: LossWeighting.create('scale-normalized', new Map([['alphabet', 1], ['character', 2]])).state(),
    history: [{ epoch: 0, train: [{ head: 'alphabet', meanLoss: 1.5, accuracy: 0.25, correct: 2, count: 8 }], test: [],
      samplesPerSecond: 100, wallMs: 10, workers: 2, learningRate: 0.01, lossWeights: [['alphabet', 1]] }],
    epochTrainStats: [{ head: 'alphabet', lossSum: step * 2.5, correct: 3, count: 8 }] };
}

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ckpt-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const concat = (chunks: readonly Uint8Array[]): Buffer => Buffer.concat(chunks.map((c) => Buffer.from(c)));

test('a checkpoint reads back as the same training state, bit for bit', (t) => {
  const state = fakeState(12);
  const back = decodeCheckpoint(concat(encodeCheckpoint(state)));
  t.deepEqual(back, { ...state, params: state.params.map((p) => ({ ...p, shape: [...p.shape] })) });
});

test('the real model\'s parameters round-trip', (t) => {
  const params = initialParams('two-output', 3);
  const state = { ...fakeState(1), params, sgdState: [] };
  const back = decodeCheckpoint(concat(encodeCheckpoint(state)));
  t.is(back.params.length, params.length);
  back.params.forEach((p, i) => {
    t.is(p.name, params[i]!.name);
    t.deepEqual(p.data, params[i]!.data);
  });
});

test('a flipped byte or a truncated file fails the checksum with ERR_CHECKPOINT_CORRUPT', (t) => {
  const bytes = concat(encodeCheckpoint(fakeState(5)));
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 40] = flipped[bytes.length - 40]! ^ 0x01;
  const e1 = t.throws(() => decodeCheckpoint(flipped), { instanceOf: DdpError });
  t.is(e1?.code, 'ERR_CHECKPOINT_CORRUPT');
  t.regex(e1?.message ?? '', /sha256/);
  const e2 = t.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 7)), { instanceOf: DdpError });
  t.is(e2?.code, 'ERR_CHECKPOINT_CORRUPT');
  const e3 = t.throws(() => decodeCheckpoint(bytes.subarray(0, 10)), { instanceOf: DdpError });
  t.is(e3?.code, 'ERR_CHECKPOINT_CORRUPT');
  const wrongMagic = Buffer.from(bytes);
  wrongMagic.write('XXXX', 0, 'latin1');
  t.is(t.throws(() => decodeCheckpoint(wrongMagic), { instanceOf: DdpError })?.code, 'ERR_CHECKPOINT_CORRUPT');
});

test('save writes atomically under the step number and keeps only the newest K', async (t) => {
  const dir = await tempDir(t);
  const store = new CheckpointStore({ dir: path.join(dir, 'nested'), keep: 3, log: silentLogger() });
  for (const step of [1, 2, 3, 4, 5]) await store.save(fakeState(step));
  const names = (await readdir(path.join(dir, 'nested'))).sort();
  t.deepEqual(names, ['ckpt-000000003.bin', 'ckpt-000000004.bin', 'ckpt-000000005.bin'], 'no temp files, oldest pruned');
  // Saving the same step again replaces the file whole.
  await store.save({ ...fakeState(5), epoch: 99 });
  t.is(decodeCheckpoint(await readFile(store.pathFor(5))).epoch, 99);
  const newest = await store.loadNewestValid();
  t.is(newest?.path, store.pathFor(5));
  t.is(newest?.state.globalStep, 5);
});

test('a corrupt newest checkpoint is reported and the previous one is used', async (t) => {
  const dir = await tempDir(t);
  const lines = captureLog('info');
  const log = lines.logger;
  const store = new CheckpointStore({ dir, keep: 3, log });
  for (const step of [10, 20, 30]) await store.save(fakeState(step));
  // Newest: one flipped byte in the tensors. Next: truncated mid-file (a torn copy). Oldest: intact.
  const newest = store.pathFor(30);
  const bytes = await readFile(newest);
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
  await writeFile(newest, bytes);
  await truncate(store.pathFor(20), 200);
  // Stray files that are not checkpoints are ignored.
  await writeFile(path.join(dir, 'ckpt-000000040.bin.tmp-1-abcd'), 'half written');
  const found = await store.loadNewestValid();
  t.is(found?.path, store.pathFor(10));
  t.deepEqual(found?.state.params[0]!.data, fakeState(10).params[0]!.data);
  const corrupt = lines.lines.filter((l) => l['code'] === 'ERR_CHECKPOINT_CORRUPT');
  t.deepEqual(corrupt.map((l) => l['path']), [store.pathFor(30), store.pathFor(20)]);
});

test('junk named like checkpoints above the real ones is left alone and never pushes a valid one out', async (t) => {
  const dir = await tempDir(t);
  const store = new CheckpointStore({ dir, keep: 3, log: silentLogger() });
  for (const step of [1, 2, 3]) await store.save(fakeState(step));
  const junk = ['ckpt-000000900.bin', 'ckpt-000000901.bin', 'ckpt-000000902.bin'];
  for (const name of junk) await writeFile(path.join(dir, name), 'not a checkpoint');
  await store.save(fakeState(4));
  const names = (await readdir(dir)).sort();
  t.deepEqual(names, ['ckpt-000000002.bin', 'ckpt-000000003.bin', 'ckpt-000000004.bin', ...junk],
    'the newest three valid ones kept, the oldest valid one pruned, the junk untouched');
  t.is((await readFile(path.join(dir, junk[0]!), 'utf8')), 'not a checkpoint');
  t.is((await store.loadNewestValid())?.state.globalStep, 4);
});

test('with a corrupt newest checkpoint and keep 1, the state saved after resuming survives for the next resume', async (t) => {
  const dir = await tempDir(t);
  const first = new CheckpointStore({ dir, keep: 3, log: silentLogger() });
  for (const step of [20, 30]) await first.save(fakeState(step));
  const newest = first.pathFor(30);
  const bytes = await readFile(newest);
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
  await writeFile(newest, bytes);
  // A new process resumes from the newest valid one (20), runs a few steps and is stopped: it saves 23.
  const second = new CheckpointStore({ dir, keep: 1, log: silentLogger() });
  t.is((await second.loadNewestValid())?.state.globalStep, 20);
  await second.save(fakeState(23));
  t.deepEqual((await readdir(dir)).sort(), ['ckpt-000000023.bin', 'ckpt-000000030.bin'], 'the corrupt file is not ours to delete; 23 is kept');
  const third = new CheckpointStore({ dir, keep: 1, log: silentLogger() });
  t.is((await third.loadNewestValid())?.state.globalStep, 23, 'the next --resume continues, not a fresh run');
});

test('an empty or missing folder has no checkpoint', async (t) => {
  const dir = await tempDir(t);
  t.is(await new CheckpointStore({ dir: path.join(dir, 'none'), keep: 1, log: silentLogger() }).loadNewestValid(), undefined);
  t.throws(() => new CheckpointStore({ dir, keep: 0, log: silentLogger() }), { instanceOf: DdpError });
});

test('resuming with another dataset, seed, batch size, model or weighting is ERR_BAD_CONFIG', async (t) => {
  const data = { fingerprint: 'x', train: { size: 10 }, test: { size: 5 } } as unknown as Parameters<typeof coordinatorOptions>[0]['data'];
  const options = coordinatorOptions({ data, workers: 1, seed: 7, globalBatch: 32,
    overrides: { lossWeighting: LossWeighting.create('scale-normalized', new Map([['alphabet', 1], ['character', 1]])) } });
  const state = { ...fakeState(3), params: initialParams('two-output', 7) };
  t.notThrows(() => checkResumable(state, options, 'f'));
  for (const [bad, flag] of [[{ seed: 8 }, '--seed'], [{ globalBatch: 64 }, '--batch-size'], [{ modelKind: 'two-input' }, '--model'],
    [{ lossWeighting: { ...state.lossWeighting, strategy: 'fixed' } }, '--loss-weighting'],
    [{ datasetFingerprint: 'y' }, '--alphabets']] as const) {
    const error = t.throws(() => checkResumable({ ...state, ...bad } as TrainingState, options, 'f'), { instanceOf: DdpError });
    t.is(error?.code, 'ERR_BAD_CONFIG');
    t.true(error?.message.includes(flag), error?.message);
  }
  const wrongShapes = { ...state, params: fakeState(1).params };
  t.is(t.throws(() => checkResumable(wrongShapes, options, 'f'), { instanceOf: DdpError })?.code, 'ERR_BAD_CONFIG');
});
