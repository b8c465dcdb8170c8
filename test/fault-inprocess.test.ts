import test from 'ava';
import { Coordinator, type CoordinatorOptions } from '../coordinator/coordinator.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import type { Message } from '../shared/protocol/messages.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, type LineLog } from './helpers/log-capture.js';
import { RawPeer, validHello } from './helpers/raw-peer.js';

// Failure paths of the coordinator with in-process parties over real ZeroMQ sockets: a "raw" worker is a bare
// Dealer that speaks the protocol by hand and misbehaves on purpose. Every run must end with the weights of the
// failure-free run (same seed, same global batches), because a lost shard is recomputed by someone else and the
// coordinator sums shards in offset order.

const GLOBAL_BATCH = 64;
const FAST: Partial<CoordinatorOptions> = { heartbeatIntervalMs: 200, workerTimeoutMs: 1500 };

let reference: ReturnType<typeof trainWith> | undefined;
function failureFree(data: OmniglotData): ReturnType<typeof trainWith> {
  reference ??= trainWith({ data, workers: 1, globalBatch: GLOBAL_BATCH });
  return reference;
}

/** A raw peer that says hello with the right fingerprint, model and protocol, then does what `behave` says. */
async function rawWorker(endpoint: string, data: OmniglotData, name: string,
  behave: (m: Message, w: RawPeer) => void | Promise<void>): Promise<RawPeer> {
  const peer = new RawPeer(endpoint, behave);
  await peer.send(validHello(data, 'two-output', { workerName: name }));
  return peer;
}

async function run(data: OmniglotData, minWorkers: number, lines: { log: CoordinatorOptions['log'] },
  during: (c: Coordinator) => Promise<void> | void, onStep?: CoordinatorOptions['onStep']) {
  const options = coordinatorOptions({ data, workers: minWorkers, globalBatch: GLOBAL_BATCH, log: lines.log,
    overrides: { ...FAST, ...(onStep ? { onStep } : {}) } });
  const coordinator = await Coordinator.start(options);
  // `during` may wait for workers, which end at the coordinator's shutdown: close first, then wait for it.
  const side = Promise.resolve(during(coordinator));
  side.catch(() => undefined);
  let result;
  try {
    result = await coordinator.train();
  } finally {
    await coordinator.close();
  }
  await side;
  return { result };
}

const lostLine = (log: LineLog, name: string) => log.lines.find((l) => l.msg === 'worker lost' && l['workerName'] === name);

test.serial('a worker that goes silent mid-step is declared lost, its shard is recomputed, the step is unchanged', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const log = lines.logger;
  let silent: RawPeer | undefined;
  let taskHeld: Message | undefined;
  const { result } = await run(data, 2, { log }, async (c) => {
    // It joins first, so the first step (which waits for 2 workers) gives it a shard. It beats until then (the real
    // workers take a moment to start their compute threads), and from then on never answers, never beats.
    silent = await rawWorker(c.endpoint, data, 'silent', (m) => {
      if (m.type === 'step') taskHeld ??= m;
    });
    silent.beat(100, () => taskHeld !== undefined);
    await lines.waitFor((l) => l.msg === 'worker joined' && l['workerName'] === 'silent');
    const workers = await startWorkers(c.endpoint, data, 2);
    // Once it is lost, its late answer must be recognised and dropped.
    await lines.waitFor((l) => l.msg === 'worker lost', 20_000);
    if (taskHeld?.type === 'step') {
      await silent.send({ type: 'gradients', taskId: taskHeld.taskId, stepId: taskHeld.stepId, sampleCount: taskHeld.sampleIndices.length,
        grads: [], heads: [], computeMs: 1 });
    }
    await Promise.all(workers.map((w) => w.finished));
  });
  silent?.close();
  const lost = lostLine(lines, 'silent');
  t.truthy(lost, 'worker lost logged');
  t.is(lost?.['code'], 'ERR_WORKER_LOST');
  t.is(lost?.['step'], 0, 'the step it held');
  t.true((lost?.['tasks'] as unknown[]).length > 0);
  t.truthy(lines.lines.find((l) => l.msg === 'reassigning the tasks of a departed worker'));
  t.truthy(lines.lines.find((l) => l['code'] === 'ERR_STALE_TASK' && l['task'] === (taskHeld as { taskId: number }).taskId));
  const expected = await failureFree(data);
  const diff = maxRelativeDifference(result.state.params, expected.state.params);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
  t.deepEqual(result.state.history[0]!.test.map((h) => h.count), [data.test.size, data.test.size]);
});

test.serial('a lost worker with no one left parks the step; a worker joining mid-step takes it over', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const log = lines.logger;
  let helloAgain = true;
  const { result } = await run(data, 1, { log }, async (c) => {
    // It takes the whole first step, says hello again on the same connection (as after a suspected restart), then
    // falls silent. Its tasks must not vanish with its old registration.
    const raw = await rawWorker(c.endpoint, data, 'flaky', async (m, w) => {
      if (m.type === 'step' && helloAgain) {
        helloAgain = false;
        await w.send(validHello(data, 'two-output', { workerName: 'flaky' }));
      }
    });
    await lines.waitFor((l) => l.msg === 'no live worker: waiting for one', 20_000);
    const [worker] = await startWorkers(c.endpoint, data, 1);
    await worker!.finished;
    raw.close();
  });
  t.truthy(lines.lines.find((l) => l.msg === 'worker said hello again: rejoining it'));
  t.is(lostLine(lines, 'flaky')?.['step'], 0);
  const expected = await failureFree(data);
  const diff = maxRelativeDifference(result.state.params, expected.state.params);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
});

test.serial('a worker that fails every task is disconnected at the fault limit; weights and metrics are unchanged', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const log = lines.logger;
  let joinAt: (() => void) | undefined;
  const joinNow = new Promise<void>((resolve) => {
    joinAt = resolve;
  });
  const { result } = await run(data, 1, { log }, async (c) => {
    const [worker] = await startWorkers(c.endpoint, data, 1);
    await joinNow;
    // Refuses every task (ERR_COMPUTE): each failed shard is reassigned, and past maxWorkerFaults it is dropped. It
    // beats, as a live worker does, so it is dropped for its faults and not for silence.
    const raw = await rawWorker(c.endpoint, data, 'evaluator', async (m, w) => {
      if (m.type === 'step' || m.type === 'eval-request') {
        await w.send({ type: 'error', code: 'ERR_COMPUTE', message: 'out of memory', taskId: m.taskId });
      }
    });
    raw.beat(100);
    await worker!.finished;
    raw.close();
  }, (info) => {
    if (info.stepInEpoch === info.stepsPerEpoch - 2) joinAt?.();
  });
  const lost = lines.lines.find((l) => l['workerName'] === 'evaluator' && l['code'] === 'ERR_TOO_MANY_FAULTS');
  t.truthy(lost, 'the failing worker was dropped');
  t.truthy(lines.lines.find((l) => l.msg === 'worker failed a task'));
  const expected = await failureFree(data);
  const diff = maxRelativeDifference(result.state.params, expected.state.params);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
  const summary = (s: typeof result) => s.state.history[0]!.test.map((h) => [h.count, h.correct]);
  t.deepEqual(summary(result), summary(expected), 'evaluation counted every test image once');
});

test('a worker lost during evaluation: its shard is re-evaluated and every test image is counted once', async (t) => {
  const data = await omniglotSubset(2);
  const lines = captureLog('info');
  const options = coordinatorOptions({ data, workers: 1, log: lines.logger, overrides: { heartbeatIntervalMs: 100, workerTimeoutMs: 800 } });
  const reference = await Coordinator.start(options);
  const [alone] = await startWorkers(reference.endpoint, data, 1);
  const expected = await reference.evaluate('test');
  await reference.close();
  await alone!.finished;

  const coordinator = await Coordinator.start({ ...options, minWorkers: 2 });
  const [worker] = await startWorkers(coordinator.endpoint, data, 1);
  // A peer that joins, takes its evaluation shard and never answers.
  const silent = new RawPeer(coordinator.endpoint);
  try {
    await silent.send(validHello(data, 'two-output', { workerName: 'silent-evaluator' }));
    const evaluation = coordinator.evaluate('test');
    const request = await silent.next('eval-request');
    t.true(request.sampleIndices.length > 0, 'the silent peer was given part of the test split');
    const result = await evaluation;
    // Exact counts; the loss sums differ only by the order in which shards were added.
    t.deepEqual(result.heads.map((h) => [h.head, h.correct, h.count]), expected.heads.map((h) => [h.head, h.correct, h.count]));
    t.deepEqual(result.agreement, expected.agreement);
    result.heads.forEach((h, i) => t.true(Math.abs(h.meanLoss - expected.heads[i]!.meanLoss) < 1e-9));
    t.is(result.heads[0]!.count, data.test.size);
    t.truthy(lines.lines.find((l) => l.msg === 'worker lost' && l['workerName'] === 'silent-evaluator'));
  } finally {
    silent.close();
    await coordinator.close();
    await worker!.finished;
  }
});
