import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { stepsPerEpoch } from '../coordinator/trainer/epoch-schedule.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog } from './helpers/log-capture.js';

// Liveness must not depend on compute progress. Each task here blocks the worker's compute thread for 3x the
// coordinator's worker timeout (a test hook, `computeDelayMs`: the thread sleeps as a long synchronous kernel would,
// on top of the real compute), so a worker whose heartbeats waited for compute would be declared lost on every
// task and never finish a step. Every step must complete, with no loss, no second hello and no stale answer.

// Not much shorter: coordinator and workers share this process's main thread, which a loaded machine (and the 8 MB
// weight and gradient frames) can stall for most of a second.
const TIMEOUT_MS = 1000;
const DELAY_MS = 3 * TIMEOUT_MS;
const GLOBAL_BATCH = 160;

async function slowRun(data: OmniglotData, workers: number) {
  const coordinatorLog = captureLog('info');
  const workerLog = captureLog('info');
  const options = coordinatorOptions({ data, workers, globalBatch: GLOBAL_BATCH, log: coordinatorLog.logger,
    overrides: { heartbeatIntervalMs: 100, workerTimeoutMs: TIMEOUT_MS } });
  const coordinator = await Coordinator.start(options);
  const started = await startWorkers(coordinator.endpoint, data, workers, 'two-output', workerLog.logger, { computeDelayMs: DELAY_MS });
  // A livelock (lost, hello again, stale, forever) ends here as a stopped run rather than as a hung test.
  const watchdog = setTimeout(() => coordinator.stop('no progress within 60 s'), 60_000);
  try {
    const result = await coordinator.train();
    return { result, coordinatorLog, workerLog };
  } finally {
    clearTimeout(watchdog);
    await coordinator.close();
    await Promise.all(started.map((w) => w.finished));
  }
}

test.serial('tasks that take 3x the worker timeout complete, with one worker and with two', async (t) => {
  const data = await omniglotSubset(1);
  const steps = stepsPerEpoch(data.train.size, GLOBAL_BATCH);
  const runs = [await slowRun(data, 1), await slowRun(data, 2)];
  for (const [i, { result, coordinatorLog, workerLog }] of runs.entries()) {
    const workers = i + 1;
    t.false(result.stopped, `${workers} worker(s): the run finished`);
    t.is(result.state.globalStep, steps, `${workers} worker(s): every step completed`);
    t.is(result.state.history[0]!.test[0]!.count, data.test.size, `${workers} worker(s): every test image evaluated`);
    t.deepEqual(coordinatorLog.matching('worker lost'), [], `${workers} worker(s): no worker declared lost`);
    t.deepEqual(coordinatorLog.lines.filter((l) => l.code === 'ERR_STALE_TASK'), [], `${workers} worker(s): no stale answer`);
    t.deepEqual(coordinatorLog.matching('worker said hello again: rejoining it'), []);
    t.deepEqual(workerLog.matching('coordinator silent: saying hello again'), [], `${workers} worker(s): no second hello`);
    t.is(coordinatorLog.matching('worker joined').length, workers, `${workers} worker(s): each joined once`);
    // The worker's own silence check uses the coordinator's timeout, learnt in the handshake.
    const joined = workerLog.matching('joined the run');
    t.true(joined.length === workers && joined.every((l) => l['workerTimeoutMs'] === TIMEOUT_MS));
  }
  const diff = maxRelativeDifference(runs[1]!.result.state.params, runs[0]!.result.state.params);
  t.true(diff < 1e-4, `1 vs 2 slow workers: max relative difference ${diff}`);
});
