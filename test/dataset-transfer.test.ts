import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { DatasetServer } from '../coordinator/dataset-server.js';
import { decodeDatasetFile, encodeDatasetFile, readReceived } from '../shared/dataset/dataset-transfer.js';
import type { DdpError } from '../shared/common/errors.js';
import { silentLogger } from '../shared/common/logger.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { DATASET_CHUNK_BYTES, MAX_DATASET_BYTES } from '../shared/protocol/dataset-limits.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { fetchDataset } from '../worker/dataset-fetch.js';
import { coordinatorOptions, startWorkers } from './helpers/cluster.js';
import { omniglotSubset, testCacheDir } from './helpers/fixtures.js';
import { CapturedLog } from './helpers/log-capture.js';
import { reap, spawnCli } from './helpers/processes.js';

const FP = 'ab'.repeat(32);
const reasonOf = (r: ReturnType<typeof decodeMessage>): string => (r.ok ? 'decoded' : r.reason);
const invalidReason = (r: { readonly read: { readonly kind: string; readonly reason?: string } }): string => r.read.reason ?? r.read.kind;

test('dataset chunks out of bounds are refused by the codec, naming the bound', (t) => {
  const chunk = (over: Partial<{ fingerprint: string; offset: number; totalBytes: number; data: Uint8Array }>) =>
    decodeMessage(encodeMessage({ type: 'dataset-chunk', fingerprint: FP, offset: 0, totalBytes: 10, data: new Uint8Array(10), ...over }));
  t.like(chunk({}), { ok: true });
  t.like(chunk({ fingerprint: 'zz' }), { ok: false, code: 'ERR_BAD_MESSAGE', reason: 'dataset chunk fingerprint is not 64 hex digits' });
  t.like(chunk({ offset: 5 }), { ok: false, reason: 'dataset chunk [5, 15) runs past the end (10 bytes)' });
  t.regex(reasonOf(chunk({ totalBytes: MAX_DATASET_BYTES + 1, data: new Uint8Array(0) })), /dataset of \d+ bytes is over the limit/);
  t.regex(reasonOf(chunk({ totalBytes: 1 << 30, data: new Uint8Array(DATASET_CHUNK_BYTES + 1) })), /DatasetChunk.data holds \d+ bytes, the limit is 4194304/);
  const request = decodeMessage(encodeMessage({ type: 'dataset-request', offset: 7, maxBytes: 9 }));
  t.like(request, { ok: true, message: { type: 'dataset-request', offset: 7, maxBytes: 9 } });
});

test('the dataset file round-trips to the same fingerprint, and a flipped byte is caught', async (t) => {
  const data = await omniglotSubset(2);
  const file = encodeDatasetFile(data);
  const back = decodeDatasetFile(file, data.fingerprint);
  t.is(back.data?.fingerprint, data.fingerprint);
  t.deepEqual(back.data?.train.images, data.train.images);
  const bad = Buffer.from(file);
  bad[bad.length - 5000] = (bad[bad.length - 5000]! + 1) % 256;
  t.regex(invalidReason(decodeDatasetFile(bad, data.fingerprint)), /fails its sha256 checksum/);
  t.regex(invalidReason(decodeDatasetFile(file, FP)), /is not the expected abababababab/);
  t.throws(() => encodeDatasetFile({ ...data, source: undefined as never }), { message: /not loaded from an Omniglot zip/ });
});

test('the dataset server sends bounded chunks and refuses offsets past the end and endless re-reads', async (t) => {
  const data = await omniglotSubset(2);
  const server = new DatasetServer(data);
  const head = server.answer('peer', { type: 'dataset-request', offset: 0, maxBytes: 0 }, PROTOCOL_VERSION);
  if (head.type !== 'dataset-chunk') return t.fail(head.reason);
  t.is(head.data.length, 0);
  t.is(head.fingerprint, data.fingerprint);
  const big = server.answer('peer', { type: 'dataset-request', offset: 0, maxBytes: 1 << 30 }, PROTOCOL_VERSION);
  t.is(big.type === 'dataset-chunk' ? big.data.length : -1, Math.min(DATASET_CHUNK_BYTES, head.totalBytes));
  t.like(server.answer('peer', { type: 'dataset-request', offset: head.totalBytes + 1, maxBytes: 1 }, PROTOCOL_VERSION), { type: 'refused', code: 'ERR_BAD_MESSAGE' });
  let last = big;
  for (let i = 0; i < 10 && last.type === 'dataset-chunk'; i++) last = server.answer('greedy', { type: 'dataset-request', offset: 0, maxBytes: DATASET_CHUNK_BYTES }, PROTOCOL_VERSION);
  t.like(last, { type: 'refused', code: 'ERR_TOO_MANY_FAULTS' });
  t.like(server.answer('other', { type: 'dataset-request', offset: 0, maxBytes: 10 }, PROTOCOL_VERSION), { type: 'dataset-chunk' });
  t.like(server.answer('old', { type: 'dataset-request', offset: 0, maxBytes: 10 }, PROTOCOL_VERSION + 1), { type: 'refused', code: 'ERR_PROTOCOL_VERSION' });
});

test('a worker with no data dir receives the set from the coordinator over real sockets, trains, and its cache verifies', async (t) => {
  const data = await omniglotSubset(2);
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'received-'));
  const options = coordinatorOptions({ data, workers: 2, globalBatch: 64, overrides: { datasetServer: new DatasetServer(data) } });
  const coordinator = await Coordinator.start(options);
  const local = await startWorkers(coordinator.endpoint, data, 1);
  // No OMNIGLOT_DIR, no --data-dir, an empty cache folder: nothing to load from.
  const env = { ...process.env };
  delete env['OMNIGLOT_DIR'];
  const remote = spawnCli(['worker', `--connect=${coordinator.endpoint}`, `--cache-dir=${cacheDir}`, '--alphabets=2', '--name=no-data',
    '--log-level=info'], env);
  try {
    const result = await coordinator.train();
    t.false(result.stopped);
    t.truthy(remote.log.matching('dataset received and verified')[0]);
    t.truthy(remote.log.matching('joined the run')[0]);
    const cached = await readReceived(cacheDir, data.fingerprint);
    t.is(cached.data?.fingerprint, data.fingerprint);
    t.deepEqual(await readdir(cacheDir), [`received-${data.fingerprint}.bin`]);

    // A restart asks for the fingerprint only and reads the verified copy.
    const log = new CapturedLog('info');
    const again = await fetchDataset({ connect: coordinator.endpoint, security: { kind: 'plain' }, cacheDir, log: log.logger });
    t.is(again.fingerprint, data.fingerprint);
    t.truthy(log.matching('dataset cache hit (received earlier from the coordinator)')[0]);
    t.is(log.matching('dataset received and verified').length, 0);
  } finally {
    await coordinator.close();
    await Promise.all(local.map((w) => w.finished));
    t.is(await remote.exited, 0);
    await reap([remote]);
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('a coordinator without a dataset server refuses a dataset request with a clear code', async (t) => {
  const data = await omniglotSubset(2);
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1 }));
  try {
    const error = await t.throwsAsync<DdpError>(fetchDataset({ connect: coordinator.endpoint, security: { kind: 'plain' }, cacheDir: testCacheDir,
      log: silentLogger() }));
    t.is(error?.code, 'ERR_DATASET_UNAVAILABLE');
    t.regex(error?.message ?? '', /does not serve its dataset \[ERR_DATASET_UNAVAILABLE\]/);
  } finally {
    await coordinator.close();
  }
});
