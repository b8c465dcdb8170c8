import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { CheckpointStore } from '../coordinator/checkpoint-store.js';
import { Coordinator } from '../coordinator/coordinator.js';
import { MAX_SEED } from '../scripts/cli/option-tables.js';
import { silentLogger } from '../shared/common/logger.js';
import { coordinatorOptions, startWorkers } from './helpers/cluster.js';
import { freeEndpoint, omniglotSubset } from './helpers/fixtures.js';
import { dataArgs, reap, spawnCli, type CliProcess } from './helpers/processes.js';

// How runs stop, resume and fail, with real CLI processes (issue 15, cases 5, 8 and 9): SIGTERM is a stop to be
// resumed, so workers started on their own wait and rejoin; a finished or failed run dismisses them; `train`'s own
// workers stop with it; a late I/O error ends everything in one line with the state saved; after a SIGKILL and a
// resume, metrics.jsonl lists each step once; IPv6 loopback endpoints bind and connect.

/** 784 training images of two alphabets in batches of 64: 13 steps an epoch. */
const STEPS_PER_EPOCH = 13;

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stop-resume-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function coordinatorArgs(bind: string, dir: string, extra: readonly string[] = []): string[] {
  return ['coordinator', `--bind=${bind}`, ...dataArgs(2), '--seed=7', '--epochs=1', '--batch-size=64', '--min-workers=1',
    '--heartbeat-ms=200', '--worker-timeout=3', `--checkpoint-dir=${path.join(dir, 'ckpt')}`, '--checkpoint-every=4',
    `--run-dir=${path.join(dir, 'run')}`, '--log-level=info', ...extra];
}

const workerArgs = (bind: string, rejoinSeconds: number): string[] =>
  ['worker', `--connect=${bind}`, ...dataArgs(2), `--rejoin-timeout=${rejoinSeconds}`, '--log-level=info'];

const savedAt = (step: number) => (l: Record<string, unknown>) => l['msg'] === 'checkpoint saved' && l['globalStep'] === step;

function stepRecords(runDir: string): number[] {
  const text = existsSync(path.join(runDir, 'metrics.jsonl')) ? readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8') : '';
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; globalStep?: number })
    .filter((r) => r.type === 'step').map((r) => r.globalStep ?? -1);
}

const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

test('SIGTERM: a worker started on its own waits, rejoins the resumed run, and is dismissed when it ends', async (t) => {
  const dir = await tempDir(t);
  const bind = await freeEndpoint();
  const processes: CliProcess[] = [];
  try {
    const first = spawnCli(coordinatorArgs(bind, dir));
    const worker = spawnCli(workerArgs(bind, 60));
    processes.push(first, worker);
    await first.log.waitFor(savedAt(4), 90_000);
    first.child.kill('SIGTERM');
    t.is(await first.exited, 0);
    await worker.log.waitFor((l) => l.msg === 'waiting for the coordinator to resume the run', 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    t.is(worker.child.exitCode, null, 'the worker is still there, waiting to rejoin');

    const second = spawnCli(coordinatorArgs(bind, dir, ['--resume']));
    processes.push(second);
    t.is(await second.exited, 0);
    t.true(second.log.matching('worker joined').length >= 1, 'the waiting worker joined the resumed run');
    t.is(await worker.exited, 0, 'a finished run dismisses the worker');
    t.deepEqual(stepRecords(path.join(dir, 'run')), oneToN(STEPS_PER_EPOCH));
  } finally {
    await reap(processes);
  }
});

test('after a resume from SIGKILL, metrics.jsonl holds one record per step', async (t) => {
  const data = await omniglotSubset(2);
  const dir = await tempDir(t);
  const bind = await freeEndpoint();
  const runDir = path.join(dir, 'run');
  const processes: CliProcess[] = [];
  try {
    const first = spawnCli(coordinatorArgs(bind, dir));
    processes.push(first);
    const workers = await startWorkers(bind, data, 2);
    await first.log.waitFor(savedAt(4), 90_000);
    // Kill once steps past the checkpoint are on record, so the resumed run redoes some.
    const deadline = performance.now() + 60_000;
    while (Math.max(0, ...stepRecords(runDir)) < 6 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    first.child.kill('SIGKILL');
    await first.exited;
    const before = Math.max(...stepRecords(runDir));

    const second = spawnCli(coordinatorArgs(bind, dir, ['--resume']));
    processes.push(second);
    t.is(await second.exited, 0);
    await Promise.all(workers.map((w) => w.finished));
    const resumedAt = second.log.lines.find((l) => l.msg === 'resuming from checkpoint')?.['globalStep'];
    t.true(typeof resumedAt === 'number' && before > resumedAt, `steps ${String(resumedAt)}..${before} were redone`);
    t.deepEqual(stepRecords(runDir), oneToN(STEPS_PER_EPOCH));
    const epochs = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"epoch"'));
    t.is(epochs.length, 1);
  } finally {
    await reap(processes);
  }
});

test('SIGTERM to train stops its own local workers with it', async (t) => {
  const dir = await tempDir(t);
  const train = spawnCli(['train', '--workers=1', ...dataArgs(2), '--epochs=3', '--batch-size=64', `--run-dir=${path.join(dir, 'run')}`,
    '--log-level=info']);
  try {
    await train.log.waitFor((l) => l.msg === 'worker joined', 60_000);
    const children = execFileSync('pgrep', ['-P', String(train.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
    t.is(children.length, 1);
    train.child.kill('SIGTERM');
    t.is(await train.exited, 0);
    const alive = children.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    t.deepEqual(alive, [], 'no local worker outlives train');
  } finally {
    await reap([train]);
  }
});

test('a late I/O error ends the run in one line: the epoch checkpointed, the worker dismissed, exit non-zero', async (t) => {
  const dir = await tempDir(t);
  const bind = await freeEndpoint();
  const weightsDir = path.join(dir, 'weights');
  mkdirSync(weightsDir);
  const processes: CliProcess[] = [];
  try {
    // The largest seed the CLI accepts also crosses the wire: the worker is welcomed and trains.
    const coordinator = spawnCli(coordinatorArgs(bind, dir, [`--save-weights=${path.join(weightsDir, 'w.bin')}`, `--seed=${MAX_SEED}`]));
    const worker = spawnCli(workerArgs(bind, 60));
    processes.push(coordinator, worker);
    await coordinator.log.waitFor((l) => l.msg === 'worker joined', 60_000);
    // The folder checked at start goes away during the run, as a full or unmounted disk would.
    rmSync(weightsDir, { recursive: true });
    writeFileSync(weightsDir, 'now a file');
    t.is(await coordinator.exited, 1);
    const raw = coordinator.log.lines.filter((l) => l.raw === true).map((l) => String(l.msg));
    t.is(raw.length, 1, raw.join('\n'));
    t.regex(raw[0]!, /^omniglot-ddp: ENOTDIR: not a directory/);
    t.is(await worker.exited, 0, 'the worker is dismissed, not left waiting');
    t.truthy(worker.log.lines.find((l) => l.msg === 'coordinator ended the run'));
    const saved = await new CheckpointStore({ dir: path.join(dir, 'ckpt'), keep: 3, log: silentLogger() }).loadNewestValid();
    t.is(saved?.state.epoch, 1, 'the finished epoch was checkpointed');
    t.is(saved?.state.seed, MAX_SEED);
  } finally {
    await reap(processes);
  }
});

const hasIpv6Loopback = Object.values(networkInterfaces()).flat().some((i) => i?.address === '::1');

(hasIpv6Loopback ? test : test.skip)('a coordinator binds tcp://[::1] and a worker joins it over IPv6', async (t) => {
  const data = await omniglotSubset(2);
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, overrides: { bind: 'tcp://[::1]:*' } }));
  t.regex(coordinator.endpoint, /^tcp:\/\/\[::1\]:\d+$/);
  const [worker] = await startWorkers(coordinator.endpoint, data, 1);
  const deadline = performance.now() + 20_000;
  while (coordinator.liveWorkers() < 1 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.is(coordinator.liveWorkers(), 1);
  await coordinator.close('test over');
  t.like(await worker!.finished, { kind: 'shutdown', resumable: false });
});
