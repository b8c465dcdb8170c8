import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { coordinatorOptions, maxRelativeDifference, startWorkers, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, type LogLine } from './helpers/log-capture.js';
import { dataArgs, reap, spawnCli, type CliProcess } from './helpers/processes.js';

// How worker processes end: with their `train` (even SIGKILLed), never orphaned; on SIGTERM, cleanly mid-step.

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds until every pid is gone, or undefined if some is still running after `limitMs`. */
async function goneWithin(pids: readonly number[], limitMs: number): Promise<number | undefined> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (pids.every((pid) => !alive(pid))) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const joinedLine = (name: string) => (l: LogLine) => l.msg === 'worker joined' && l['workerName'] === name;

test.serial('SIGKILL of train leaves no local worker behind; a worker started on its own waits to rejoin', async (t) => {
  const train = spawnCli(['train', '--workers=2', '--epochs=20', '--batch-size=32', '--worker-timeout=2', '--heartbeat-ms=200',
    '--log-level=info', ...dataArgs(1)]);
  const processes: CliProcess[] = [train];
  const pids: number[] = [];
  try {
    const listening = await train.log.waitFor((l) => l.msg === 'coordinator listening', 60_000);
    const standalone = spawnCli(['worker', `--connect=${String(listening['endpoint'])}`, '--name=standalone', '--log-level=info',
      ...dataArgs(1)]);
    processes.push(standalone);
    for (const name of ['local-1', 'local-2']) pids.push(Number((await train.log.waitFor(joinedLine(name), 60_000))['workerPid']));
    await train.log.waitFor(joinedLine('standalone'), 60_000);
    t.true(pids.every(alive), 'the local workers run');

    train.child.kill('SIGKILL');
    const goneMs = await goneWithin(pids, 5000);
    t.log(`local workers gone ${goneMs === undefined ? 'NOT within 5 s' : `${Math.round(goneMs)} ms`} after SIGKILL of train`);
    t.not(goneMs, undefined, `local workers ${pids.filter(alive).join(', ')} still running 5 s after train was killed`);

    // The standalone worker keeps its rejoin behaviour: it notices the silence (after the coordinator's timeout,
    // learnt in the handshake) and says hello again, waiting for a coordinator to come back.
    const silent = await standalone.log.waitFor((l) => l.msg === 'coordinator silent: saying hello again', 10_000);
    t.true(Number(silent['silentMs']) >= 2000);
    t.is(standalone.child.exitCode, null, 'the standalone worker still runs');
  } finally {
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    await reap(processes);
  }
});

test.serial('SIGTERM during a step: the worker abandons its shard cleanly, says goodbye, and the run loses nothing', async (t) => {
  const data = await omniglotSubset(1);
  const log = captureLog('info');
  let victim: CliProcess | undefined;
  let signalledAt = 0;
  // Small micro-batches: the shard is computed in several calls, so the signal lands between two of them.
  // Both join before the run starts; once the victim has left, the helper carries on alone.
  const options = coordinatorOptions({ data, workers: 1, globalBatch: 128, log: log.logger, overrides: { onStep: (info) => {
    if (info.globalStep !== 1) return;
    setTimeout(() => {
      signalledAt = performance.now();
      victim?.child.kill('SIGTERM');
    }, 50);
  } } });
  const coordinator = await Coordinator.start(options);
  victim = spawnCli(['worker', `--connect=${coordinator.endpoint}`, '--name=victim', '--micro-batch=8', '--log-level=info', ...dataArgs(1)]);
  const [helper] = await startWorkers(coordinator.endpoint, data, 1);
  try {
    await log.waitFor(joinedLine('victim'), 60_000);
    const result = await coordinator.train();
    await coordinator.close();
    const exit = await victim.exited;
    t.is(exit, 0, 'the worker exits normally on SIGTERM');
    const victimId = log.lines.find(joinedLine('victim'))!['worker'];
    const left = log.lines.find((l) => l.msg === 'worker left' && l['workerName'] === 'victim');
    t.truthy(left, 'it said goodbye');
    t.log(`goodbye ${Math.round(Number(left?.['at']) - signalledAt)} ms after SIGTERM`);
    t.truthy(log.lines.find((l) => l.msg === 'reassigning the tasks of a departed worker' && l['worker'] === victimId),
      'it held a shard when it left');
    const errors = victim.log.lines.filter((l) => Number(l['level']) >= 50 || String(l['reason'] ?? l.msg).includes('setParams'));
    t.deepEqual(errors, [], 'nothing failed in the worker');
    t.deepEqual(log.lines.filter((l) => l.code === 'ERR_COMPUTE'), [], 'no task failure reached the coordinator');
    t.false(result.stopped);
    const expected = await trainWith({ data, workers: 1, globalBatch: 128 });
    const diff = maxRelativeDifference(result.state.params, expected.state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);
  } finally {
    await coordinator.close().catch(() => undefined);
    await helper!.finished;
    await reap([victim]);
  }
});
