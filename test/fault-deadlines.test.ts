import test from 'ava';
import { Coordinator, type CoordinatorOptions, type StepInfo } from '../coordinator/coordinator.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import type { Message } from '../shared/protocol/messages.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { FaultProxy } from './helpers/fault-proxy.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, type LineLog, type LogLine } from './helpers/log-capture.js';
import { dataArgs, reap, spawnCli } from './helpers/processes.js';
import { RawPeer, validHello } from './helpers/raw-peer.js';

// Per-task deadlines over real ZeroMQ with in-process workers. A slow or hung compute is simulated by a test-only
// proxy (test/helpers/fault-proxy.ts) that holds back one worker's answers while its heartbeats pass: to the
// coordinator that is exactly a worker whose compute is slow or hangs with its event loop alive. A silent peer is
// a raw Dealer that says hello and heartbeats but never answers. Every run must end with the weights of the
// undisturbed run: a backup computes the same piece, and the round sums pieces in plan order.

const GLOBAL_BATCH = 32;
const EPOCHS = 2;

let reference: ReturnType<typeof trainWith> | undefined;
const undisturbed = (data: OmniglotData) => (reference ??= trainWith({ data, workers: 1, globalBatch: GLOBAL_BATCH, epochs: EPOCHS }));

const named = (log: LineLog, msg: string, name: string) => log.lines.filter((l) => l.msg === msg && l['workerName'] === name);
const workerIdOf = (log: LineLog, name: string) => named(log, 'worker joined', name)[0]?.['worker'];

const bothJoined = (log: LineLog, a: string, b: string) =>
  Promise.all([a, b].map((name) => log.waitFor((l) => l.msg === 'worker joined' && l['workerName'] === name)));

/** A coordinator with one in-process worker direct and one behind a fault proxy; `onStep` may set the fault. */
async function proxiedRun(data: OmniglotData, lines: LineLog & { logger: CoordinatorOptions['log'] },
  onStep: (info: StepInfo, proxy: FaultProxy) => void, afterTraining: () => Promise<unknown> = async () => undefined) {
  let proxy: FaultProxy | undefined;
  const steps: (StepInfo & { at: number })[] = [];
  // One worker is enough to go on (the faulty one may be disconnected); both join before training starts.
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, epochs: EPOCHS, globalBatch: GLOBAL_BATCH,
    log: lines.logger, overrides: { deadlines: { warmupMs: 1500 }, onStep: (info) => {
      steps.push({ ...info, at: performance.now() });
      onStep(info, proxy!);
    } } }));
  proxy = await FaultProxy.start(coordinator.endpoint);
  const [direct] = await startWorkers(coordinator.endpoint, data, 1, 'two-output', undefined, 'direct');
  const [proxied] = await startWorkers(proxy.endpoint, data, 1, 'two-output', undefined, 'proxied');
  try {
    await bothJoined(lines, 'direct-1', 'proxied-1');
    const result = await coordinator.train();
    await afterTraining();
    return { result, steps, proxy, proxiedExit: proxied!.finished };
  } finally {
    await coordinator.close();
    await Promise.all([direct!.finished, Promise.race([proxied!.finished, new Promise((r) => setTimeout(r, 3000))])]);
    proxied!.kill();
    proxy.close();
  }
}

test.serial('a worker whose compute hangs (heartbeats flowing) is backed up, then disconnected; weights unchanged', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  let hungAt = 0;
  const disconnected = (l: LogLine) => l.msg === 'disconnecting a worker that keeps missing deadlines' && l['workerName'] === 'proxied-1';
  const { result, steps, proxiedExit } = await proxiedRun(data, lines, (info, proxy) => {
    if (info.globalStep === 3) {
      proxy.fault = { kind: 'hang' };
      hungAt = performance.now();
    }
  }, () => lines.waitFor(disconnected, 60_000)); // the pool outlives the run a little: misses go on counting
  t.false(result.stopped);
  const straggler = named(lines, 'worker missed a task deadline: straggler', 'proxied-1');
  t.true(straggler.length > 0, 'the hung worker was logged as a straggler');
  t.is(straggler[0]!['code'], 'ERR_STRAGGLER');
  const backups = lines.matching('backup task for a straggler\'s piece').filter((l) => l['straggler'] === workerIdOf(lines, 'proxied-1'));
  t.true(backups.length > 0, 'its piece went to the other worker as a backup');
  t.is(named(lines, 'disconnecting a worker that keeps missing deadlines', 'proxied-1').length, 1, 'then it was treated as faulty');
  t.is(named(lines, 'worker lost', 'proxied-1').length, 0, 'its heartbeats flowed: the deadline caught it, not the liveness timeout');
  t.like(await proxiedExit, { kind: 'refused', code: 'ERR_TOO_MANY_FAULTS' });
  const heldStep = straggler.find((l) => typeof l['step'] === 'number')?.['step'];
  const done = steps.find((s) => s.globalStep === Number(heldStep) + 1);
  t.log(`hang -> straggler ${Math.round(Number(straggler[0]!['at']) - hungAt)} ms, -> step ${String(heldStep)} done ` +
    `${done ? Math.round(done.at - hungAt) : '?'} ms, -> disconnected ${Math.round(Number(named(lines, 'disconnecting a worker that keeps missing deadlines', 'proxied-1')[0]!['at']) - hungAt)} ms`);
  const diff = maxRelativeDifference(result.state.params, (await undisturbed(data)).state.params);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
});

test.serial('a worker slowed 5x mid-run is routed around: backups first, then a smaller share; weights unchanged', async (t) => {
  // Worker processes: in-process workers share one thread, so the planner rightly gives one of them everything.
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const SLOW_AFTER = 4;
  let proxy: FaultProxy | undefined;
  // The first step from SLOW_AFTER on in which the proxied worker holds a task: slowed while it holds none, it would
  // have nothing to be backed up on (the planner may give it no share for a step or two on a loaded machine).
  let slowedFrom: number | undefined;
  const stepsDone: number[] = [];
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, epochs: EPOCHS, globalBatch: GLOBAL_BATCH,
    // central-sgd: the planner's view of a proxied worker is what this test is about (see fault-chaos.test.ts).
    log: lines.logger, overrides: { exchange: 'central-sgd', onStep: (info) => {
      stepsDone.push(info.globalStep - 1);
      if (slowedFrom === undefined && info.globalStep >= SLOW_AFTER) {
        const step = info.globalStep;
        setTimeout(() => {
          if (slowedFrom === undefined && proxy!.tasks.some((task) => task.type === 'step' && task.stepId === step)) {
            proxy!.fault = { kind: 'slow', factor: 5 };
            slowedFrom = step;
          }
        }, 30);
      }
    } } }));
  proxy = await FaultProxy.start(coordinator.endpoint);
  const workers = [spawnCli(['worker', `--connect=${coordinator.endpoint}`, '--name=direct-1', '--log-level=warn', ...dataArgs(1)]),
    spawnCli(['worker', `--connect=${proxy.endpoint}`, '--name=proxied-1', '--log-level=warn', ...dataArgs(1)])];
  try {
    await bothJoined(lines, 'direct-1', 'proxied-1');
    const result = await coordinator.train();
    t.false(result.stopped);
    const slowId = workerIdOf(lines, 'proxied-1');
    t.true(lines.matching('backup task for a straggler\'s piece').some((l) => l['straggler'] === slowId), 'a backup was taken');
    t.is(named(lines, 'disconnecting a worker that keeps missing deadlines', 'proxied-1').length, 0,
      `slow is not faulty: ${JSON.stringify(lines.lines.filter((l) => l['workerName'] === 'proxied-1' && l.code === 'ERR_STRAGGLER'))}`);
    // Its planned share per step: the first step task that went through the proxy (0 where it got none).
    const share = new Map<number, number>(stepsDone.map((s) => [s, 0]));
    const seen = new Set<number>();
    for (const task of proxy.tasks) {
      if (task.type === 'step' && !seen.has(task.stepId!)) share.set(task.stepId!, task.samples);
      if (task.type === 'step') seen.add(task.stepId!);
    }
    t.log(`shares of the slowed worker by step (slowed from step ${slowedFrom}): ${JSON.stringify([...share])}`);
    if (slowedFrom === undefined) return t.fail('the proxied worker never held a task from step 4 on');
    const from = slowedFrom;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const before = mean([...share].filter(([s]) => s > 0 && s < from).map(([, n]) => n));
    const after = mean([...share].filter(([s]) => s > from + 2).map(([, n]) => n));
    t.true(before > 0, 'it had a share before');
    t.true(after < 0.6 * before, `mean share ${before} before, ${after} after`);
    const diff = maxRelativeDifference(result.state.params, (await undisturbed(data)).state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);
  } finally {
    await coordinator.close();
    await Promise.race([Promise.all(workers.map((w) => w.exited)), new Promise((r) => setTimeout(r, 3000))]);
    await reap(workers);
    proxy.close();
  }
});

/** A raw peer that says hello and heartbeats every 200 ms, and never answers a task. */
async function silentPeer(endpoint: string, data: OmniglotData, tasks: { message: Message; at: number }[]): Promise<{ peer: RawPeer; stop: () => void }> {
  const peer = new RawPeer(endpoint, (m) => {
    if (m.type === 'step' || m.type === 'eval-request') tasks.push({ message: m, at: performance.now() });
  });
  await peer.send(validHello(data, 'two-output', { workerName: 'silent-peer' }));
  const beat = setInterval(() => void peer.send({ type: 'heartbeat' }).catch(() => undefined), 200);
  return { peer, stop: () => { clearInterval(beat); peer.close(); } };
}

/** Waits for a refusal with `code` (refusals of its heartbeats, ERR_NOT_REGISTERED, may come first). */
async function refusedWith(peer: RawPeer, code: string): Promise<void> {
  for (;;) if ((await peer.next('refused', 20_000)).code === code) return;
}

// The liveness timeout is a minute here, so only the deadlines can free a step held by the silent peer.
const PATIENT: Partial<CoordinatorOptions> = { workerTimeoutMs: 60_000, deadlines: { warmupMs: 1000 } };
const FEW_SECONDS = 10_000;

test.serial('a silent peer (hello, heartbeats, no answers) holds no step for long, and its misses survive a new hello', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const tasks: { message: Message; at: number }[] = [];
  const steps: (StepInfo & { at: number })[] = [];
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 1, epochs: EPOCHS, globalBatch: GLOBAL_BATCH,
    log: lines.logger, overrides: { ...PATIENT, onStep: (info) => steps.push({ ...info, at: performance.now() }) } }));
  const silent = await silentPeer(coordinator.endpoint, data, tasks);
  const [worker] = await startWorkers(coordinator.endpoint, data, 1, 'two-output', undefined, 'direct');
  try {
    await bothJoined(lines, 'silent-peer', 'direct-1');
    const result = await coordinator.train();
    t.false(result.stopped);
    const held = tasks.filter((x) => x.message.type === 'step').map((x) => {
      const step = (x.message as Extract<Message, { type: 'step' }>).stepId;
      return Math.round(steps.find((s) => s.globalStep === step + 1)!.at - x.at);
    });
    t.log(`steps the silent peer held were done ${JSON.stringify(held)} ms after it got its task`);
    t.true(held.length >= 1 && held.every((ms) => ms < FEW_SECONDS), JSON.stringify(held));
    const diff = maxRelativeDifference(result.state.params, (await undisturbed(data)).state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);

    // Its task never comes back, so it keeps counting; at 3 it says hello again, as a hostile peer re-registering
    // would. The count goes on: its next task (an evaluation's) is its 4th miss, and it is disconnected.
    await lines.waitFor((l) => l['workerName'] === 'silent-peer' && l['missedInARow'] === 3, 60_000);
    await silent.peer.send(validHello(data, 'two-output', { workerName: 'silent-peer' }));
    await lines.waitFor((l) => l.msg === 'worker said hello again: rejoining it' && l['workerName'] === 'silent-peer');
    const evaluation = await coordinator.evaluate('test');
    t.deepEqual(evaluation.heads.map((h) => h.count), [data.test.size, data.test.size]);
    await lines.waitFor((l) => l.msg === 'disconnecting a worker that keeps missing deadlines' && l['workerName'] === 'silent-peer', 30_000);
    await refusedWith(silent.peer, 'ERR_TOO_MANY_FAULTS');
    await silent.peer.send(validHello(data, 'two-output', { workerName: 'silent-peer' }));
    await refusedWith(silent.peer, 'ERR_TOO_MANY_FAULTS');
    t.truthy(await lines.waitFor((l) => l.msg === 'refused worker' && l['workerName'] === 'silent-peer' && l.code === 'ERR_TOO_MANY_FAULTS'),
      'its record outlived the disconnect: its hello is refused');
    const misses = lines.lines.filter((l) => l['workerName'] === 'silent-peer' && typeof l['missedInARow'] === 'number')
      .map((l) => l['missedInARow'] as number);
    t.true(misses.includes(4) && misses.every((n, i) => i === 0 || n >= misses[i - 1]!),
      `the count went on across the new hello: ${JSON.stringify(misses)}`);
    t.is(named(lines, 'worker lost', 'silent-peer').length, 0);
  } finally {
    await coordinator.close();
    silent.stop();
    await worker!.finished;
  }
});

test.serial('a silent peer holds no evaluation round for long; every test image is counted once', async (t) => {
  const data = await omniglotSubset(1);
  const lines = captureLog('info');
  const tasks: { message: Message; at: number }[] = [];
  const coordinator = await Coordinator.start(coordinatorOptions({ data, workers: 2, log: lines.logger, overrides: PATIENT }));
  const silent = await silentPeer(coordinator.endpoint, data, tasks);
  const [worker] = await startWorkers(coordinator.endpoint, data, 1, 'two-output', undefined, 'direct');
  try {
    await bothJoined(lines, 'silent-peer', 'direct-1');
    const started = performance.now();
    const result = await coordinator.evaluate('test');
    const tookMs = Math.round(performance.now() - started);
    t.true(tasks.some((x) => x.message.type === 'eval-request'), 'the silent peer was given part of the split');
    t.deepEqual(result.heads.map((h) => h.count), [data.test.size, data.test.size]);
    t.truthy(named(lines, 'worker missed a task deadline: straggler', 'silent-peer').find((l) => l['round'] === 'eval'));
    t.is(named(lines, 'worker lost', 'silent-peer').length, 0);
    t.log(`evaluation with a silent peer took ${tookMs} ms`);
    t.true(tookMs < FEW_SECONDS, `${tookMs} ms`);
  } finally {
    await coordinator.close();
    silent.stop();
    await worker!.finished;
  }
});
