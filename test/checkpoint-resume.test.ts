import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CheckpointStore } from '../coordinator/checkpoint-store.js';
import { LossWeighting } from '../coordinator/loss-weighting.js';
import { silentLogger } from '../shared/common/logger.js';
import { maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { freeEndpoint, omniglotSubset } from './helpers/fixtures.js';
import { dataArgs, reap, spawnCli, type CliProcess } from './helpers/processes.js';

// A coordinator process stopped mid-epoch (SIGTERM) or killed (SIGKILL) and started again with --resume must end
// with the weights of an uninterrupted run: momentum buffers, loss-weighting state and the shuffle position all come
// back from the checkpoint. Workers run in this process, over real sockets.

const GLOBAL_BATCH = 64;

function coordinatorArgs(bind: string, dir: string, epochs: number, resume: boolean): string[] {
  return ['coordinator', `--bind=${bind}`, ...dataArgs(2), '--seed=7', `--epochs=${epochs}`, `--batch-size=${GLOBAL_BATCH}`,
    '--lr=0.01', '--momentum=0.9', '--loss-weighting=scale-normalized', '--min-workers=2', '--heartbeat-ms=200',
    '--worker-timeout=1.5', `--checkpoint-dir=${dir}`, '--checkpoint-every=4', '--checkpoint-keep=3', '--log-level=info',
    ...(resume ? ['--resume'] : [])];
}

/** The same run in this process, without interruption. */
function uninterrupted(epochs: number) {
  return omniglotSubset(2).then((data) => trainWith({ data, workers: 2, epochs, globalBatch: GLOBAL_BATCH, seed: 7,
    overrides: { sgd: { learningRate: 0.01, momentum: 0.9, weightDecay: 0, schedule: { kind: 'constant' } },
      lossWeighting: LossWeighting.create('scale-normalized', new Map([['alphabet', 1], ['character', 1]])) } }));
}

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'resume-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const savedAt = (step: number) => (l: Record<string, unknown>) => l['msg'] === 'checkpoint saved' && l['globalStep'] === step;

test('SIGTERM mid-epoch writes a checkpoint and exits 0; --resume ends with the uninterrupted weights', async (t) => {
  const data = await omniglotSubset(2);
  const dir = await tempDir(t);
  const bind = await freeEndpoint();
  const processes: CliProcess[] = [];
  try {
    const first = spawnCli(coordinatorArgs(bind, dir, 2, false));
    processes.push(first);
    const workers = await startWorkers(bind, data, 2);
    await first.log.waitFor(savedAt(8), 60_000);
    await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGTERM');
    t.is(await first.exited, 0, 'clean stop exits 0');
    await Promise.all(workers.map((w) => w.finished));
    t.truthy(first.log.lines.find((l) => l.msg === 'run stopped'));

    const store = new CheckpointStore({ dir, keep: 3, log: silentLogger() });
    const stopped = await store.loadNewestValid();
    t.is(stopped?.state.epoch, 0);
    t.true((stopped?.state.stepInEpoch ?? 0) >= 8 && (stopped?.state.stepInEpoch ?? 0) < 13, 'stopped mid-epoch');

    const second = spawnCli(coordinatorArgs(bind, dir, 2, true));
    processes.push(second);
    const more = await startWorkers(bind, data, 2);
    t.is(await second.exited, 0);
    await Promise.all(more.map((w) => w.finished));
    t.is(second.log.lines.find((l) => l.msg === 'resuming from checkpoint')?.['globalStep'], stopped?.state.globalStep);

    const final = await store.loadNewestValid();
    t.is(final?.state.epoch, 2);
    t.is(final?.state.history.length, 2);
    const expected = await uninterrupted(2);
    const diff = maxRelativeDifference(final!.state.params, expected.state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);
  } finally {
    await reap(processes);
  }
});

test('workers rejoin a coordinator killed and restarted with --resume at the same address', async (t) => {
  const data = await omniglotSubset(2);
  const dir = await tempDir(t);
  const bind = await freeEndpoint();
  const processes: CliProcess[] = [];
  try {
    const first = spawnCli(coordinatorArgs(bind, dir, 1, false));
    processes.push(first);
    // The same two workers serve both coordinators: they are never told the first one is gone.
    const workers = await startWorkers(bind, data, 2);
    await first.log.waitFor(savedAt(4), 60_000);
    await new Promise((r) => setTimeout(r, 150));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = spawnCli(coordinatorArgs(bind, dir, 1, true));
    processes.push(second);
    t.is(await second.exited, 0);
    await Promise.all(workers.map((w) => w.finished));
    t.is(second.log.matching('worker joined').length >= 2, true, 'both workers said hello again');
    t.is(second.log.lines.find((l) => l.msg === 'resuming from checkpoint')?.['globalStep'], 4);

    const final = await new CheckpointStore({ dir, keep: 3, log: silentLogger() }).loadNewestValid();
    t.is(final?.state.epoch, 1);
    const expected = await uninterrupted(1);
    const diff = maxRelativeDifference(final!.state.params, expected.state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);
  } finally {
    await reap(processes);
  }
});
