import test from 'ava';
import { Coordinator, type StepInfo } from '../coordinator/coordinator.js';
import { coordinatorOptions, maxRelativeDifference, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog } from './helpers/log-capture.js';
import { dataArgs, reap, spawnCli, type CliProcess } from './helpers/processes.js';

// Chaos on real worker processes: during a two-epoch run, random workers are SIGKILLed (and one SIGTERMed) a few
// milliseconds into a step, and replacements started. The run must finish, use every training sample exactly once
// per epoch, and end with the weights of a failure-free run with the same seed.

const GLOBAL_BATCH = 64;
const EPOCHS = 2;
/** Global step (as onStep reports it, i.e. steps done) after which a worker is hit, and how. */
const CHAOS: ReadonlyMap<number, 'SIGKILL' | 'SIGTERM'> = new Map([[3, 'SIGKILL'], [9, 'SIGTERM'], [16, 'SIGKILL'], [22, 'SIGKILL']]);

test('SIGKILLed and replaced worker processes lose no work: same samples, same weights', async (t) => {
  const data = await omniglotSubset(2);
  const lines = captureLog('info');
  const log = lines.logger;
  const children = new Map<string, CliProcess>();
  const killed = new Set<string>();
  const hits: { name: string; signal: string; at: number }[] = [];
  const steps: (StepInfo & { at: number })[] = [];
  let next = 1;
  let endpoint = '';
  const spawnWorker = (): void => {
    const name = `chaos-${next++}`;
    children.set(name, spawnCli(['worker', `--connect=${endpoint}`, `--name=${name}`, '--log-level=warn', ...dataArgs(2)]));
  };
  const joined = (name: string) => lines.lines.some((l) => l.msg === 'worker joined' && l['workerName'] === name);
  const options = coordinatorOptions({ data, workers: 2, epochs: EPOCHS, globalBatch: GLOBAL_BATCH, log,
    overrides: { heartbeatIntervalMs: 200, workerTimeoutMs: 1500, onStep: (info) => {
      steps.push({ ...info, at: performance.now() });
      const signal = CHAOS.get(info.globalStep);
      if (!signal) return;
      // A little into the next step, so that the victim holds a shard.
      setTimeout(() => {
        const alive = [...children.keys()].filter((n) => joined(n) && !killed.has(n));
        const victim = alive[Math.floor(Math.random() * alive.length)]!;
        killed.add(victim);
        hits.push({ name: victim, signal, at: performance.now() });
        children.get(victim)!.child.kill(signal);
        spawnWorker();
      }, 30);
    } } });
  const coordinator = await Coordinator.start(options);
  endpoint = coordinator.endpoint;
  const started = performance.now();
  try {
    for (let i = 0; i < 3; i++) spawnWorker();
    const result = await coordinator.train();
    await coordinator.close();
    const wallMs = performance.now() - started;
    t.false(result.stopped);

    // Exactly once: every sample in exactly one step of each epoch, and the workers' head counts agree.
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const used = new Uint32Array(data.train.size);
      for (const s of steps.filter((s) => s.epoch === epoch)) {
        for (const i of s.indices) used[i]! += 1;
        t.true(s.heads.every((h) => h.count === s.indices.length), `step ${s.globalStep}: head counts match the batch`);
      }
      t.true(used.every((n) => n === 1), `epoch ${epoch}: every sample used once`);
    }

    // Detection and recovery, per hit: SIGKILL -> 'worker lost' -> the step it held completes.
    const report: string[] = [];
    for (const hit of hits) {
      if (hit.signal === 'SIGTERM') {
        const left = await lines.waitFor((l) => l.msg === 'worker left' && l['workerName'] === hit.name, 1);
        report.push(`${hit.name} SIGTERM: goodbye after ${Math.round(Number(left['at']) - hit.at)} ms`);
        continue;
      }
      const lost = lines.lines.find((l) => l.msg === 'worker lost' && l['workerName'] === hit.name);
      t.truthy(lost, `${hit.name} declared lost`);
      if (!lost) continue;
      const step = lost['step'];
      const done = typeof step === 'number' ? steps.find((s) => s.globalStep === step + 1) : undefined;
      report.push(`${hit.name} SIGKILL: lost after ${Math.round(Number(lost['at']) - hit.at)} ms (held step ${String(step)}, ` +
        `tasks ${JSON.stringify(lost['tasks'])})` + (done ? `, step done ${Math.round(done.at - hit.at)} ms after the kill` : ''));
    }
    t.log(`run ${Math.round(wallMs)} ms; ${report.join('; ')}`);
    t.is(hits.length, CHAOS.size);

    const expected = await trainWith({ data, workers: 1, epochs: EPOCHS, globalBatch: GLOBAL_BATCH });
    const diff = maxRelativeDifference(result.state.params, expected.state.params);
    t.true(diff < 1e-4, `max relative difference ${diff}`);
  } finally {
    await coordinator.close().catch(() => undefined);
    await Promise.race([Promise.all([...children.values()].map((c) => c.exited)), new Promise((r) => setTimeout(r, 3000))]);
    await reap([...children.values()]);
  }
});
