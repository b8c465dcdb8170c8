import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { readEventsLog } from '../coordinator/observe/events-log.js';
import { dashboardConfigFrom, parseListenAddress, parseStepRange } from '../coordinator/observe/observe-flags.js';
import type { RunEvent, RunEventOf, ShardReport } from '../coordinator/observe/run-events.js';
import { RunView } from '../coordinator/observe/run-view.js';
import { findStraggler } from '../coordinator/observe/straggler.js';
import { stepSpans } from '../coordinator/observe/trace-spans.js';
import { traceDocument } from '../coordinator/observe/trace-writer.js';

const shard = (worker: string, computeMs: number, arrivedAtMs: number, samples = 8): ShardReport => ({ worker, samples, computeMs, arrivedAtMs });

function step(globalStep: number, shards: readonly ShardReport[], at = 10_000): RunEventOf<'step'> {
  return { kind: 'step', seq: globalStep, at, epoch: 0, stepInEpoch: globalStep, stepsPerEpoch: 10, globalStep, samples: 16,
    stepMs: 100, learningRate: 0.01, lossWeights: { alphabet: 1 }, heads: [{ head: 'alphabet', loss: 2, accuracy: 0.5 }], workers: shards.length, shards };
}

test('the straggler is the longest compute, not the last arrival', (t) => {
  // b answers last (slow wire) but a computed longest: a holds the step back.
  const s = findStraggler([shard('a', 90, 1000), shard('b', 40, 1050), shard('c', 50, 990)]);
  t.deepEqual(s, { worker: 'a', computeMs: 90, aheadOfMedianMs: 45 });
  t.is(findStraggler([shard('a', 90, 1000)]), undefined);
  // A worker with two pieces counts by its total.
  t.is(findStraggler([shard('a', 30, 1), shard('a', 30, 2), shard('b', 50, 3)])?.worker, 'a');
});

test('the view folds joins, steps, losses and refusals into worker rows and an events list', (t) => {
  const view = new RunView();
  const e = (body: Record<string, unknown>, seq: number): RunEvent => ({ ...body, seq, at: seq } as RunEvent);
  view.observe(e({ kind: 'worker-joined', worker: 'a', id: 'w1', host: 'h', pid: 1, backend: 'wasm' }, 1));
  view.observe(e({ kind: 'worker-joined', worker: 'b', id: 'w2', host: 'h', pid: 2, backend: 'wasm' }, 2));
  view.observe(step(1, [shard('a', 20, 5), shard('b', 60, 6)]));
  view.observe(e({ kind: 'input-refused', code: 'ERR_BAD_GRADIENTS', reason: 'NaN', worker: 'b' }, 4));
  view.observe(e({ kind: 'worker-lost', worker: 'b', id: 'w2', code: 'ERR_WORKER_LOST', tasks: 1 }, 5));
  const [a, b] = view.state.workers;
  t.like(a, { name: 'a', state: 'ready', shardSamples: 8, computeMs: 20, straggled: 0 });
  t.like(b, { name: 'b', state: 'lost', goneCode: 'ERR_WORKER_LOST', straggled: 1, refusals: { ERR_BAD_GRADIENTS: 1 } });
  t.is(view.state.straggler?.worker, 'b');
  t.deepEqual(view.state.events.map((l) => l.kind), ['worker-joined', 'worker-joined', 'input-refused', 'worker-lost']);
  t.is(view.state.steps.length, 1);
});

test('step spans: one coordinator span per step with its two measured parts, a compute span per shard', (t) => {
  const spans = stepSpans(step(3, [shard('a', 30, 9_950), shard('b', 50, 9_980)]));
  const coordinator = spans.filter((s) => s.track === 'coordinator');
  t.deepEqual(coordinator.map((s) => s.name), ['step 3', 'wait for shards', 'reduce + optimizer + broadcast']);
  t.is(coordinator[0]!.startMs, 9_900);
  t.is(coordinator[1]!.durationMs + coordinator[2]!.durationMs, 100);
  t.like(spans.find((s) => s.track === 'b'), { name: 'compute', startMs: 9_930, durationMs: 50 });
  // With phase timers, phases are laid back to back and end when the answer arrived.
  const phased = stepSpans(step(4, [{ ...shard('a', 30, 9_950), phases: { gather: 5, compute: 30, encode: 3, send: 2 } }]));
  t.deepEqual(phased.filter((s) => s.track === 'a').map((s) => [s.name, s.startMs]), [['gather', 9_910], ['compute', 9_915], ['encode', 9_945], ['send', 9_948]]);
  const doc = traceDocument(spans);
  const names = doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args?.['name']);
  t.deepEqual(names, ['coordinator', 'a', 'b']);
  t.true(doc.traceEvents.filter((e) => e.ph === 'X').every((e) => (e.ts ?? -1) >= 0 && (e.dur ?? -1) >= 0));
});

test('flags: addresses, step ranges, and a non-loopback dashboard without a token is refused', (t) => {
  t.deepEqual(parseListenAddress('8265'), { host: '127.0.0.1', port: 8265 });
  t.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  t.throws(() => parseListenAddress('host:99999'), { message: /--dashboard: 'host:99999' is not \[host:\]port/ });
  t.deepEqual(parseStepRange('10:20'), { from: 10, to: 20 });
  t.throws(() => parseStepRange('20:10'), { message: /--trace-steps: '20:10'/ });
  t.throws(() => parseStepRange('0:3'), { message: /1 <= A <= B/ });
  t.throws(() => dashboardConfigFrom('0.0.0.0:8265', undefined), { message: /refusing to serve the dashboard on 0\.0\.0\.0:8265 without --dashboard-token/ });
  t.like(dashboardConfigFrom('0.0.0.0:8265', 'a-long-token'), { token: 'a-long-token', listen: { host: '0.0.0.0' } });
  t.throws(() => dashboardConfigFrom('8265', 'short'), { message: /at least 8 characters/ });
});

test('events.jsonl: a torn last line is skipped, a bad line elsewhere is named', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'events-log-'));
  try {
    const file = path.join(dir, 'events.jsonl');
    const good = JSON.stringify({ kind: 'run-ended', reason: 'x', seq: 1, at: 2 });
    await writeFile(file, `${good}\n{"kind":"st`);
    t.is((await readEventsLog(file)).length, 1);
    await writeFile(file, `${good}\n{"kind":"nonsense","seq":2,"at":3}\n${good}\n`);
    await t.throwsAsync(readEventsLog(file), { code: 'ERR_EVENTS_CORRUPT', message: /events\.jsonl:2: not a run event/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
