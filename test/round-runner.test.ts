import test from 'ava';
import { plannedTimes, RoundRunner, type RoundSpec } from '../coordinator/pool/round-runner.js';
import { WorkerRegistry, type WorkerRecord } from '../coordinator/pool/worker-registry.js';
import { stepId, taskId, type TaskId } from '../shared/protocol/ids.js';
import { silentLogger } from '../shared/common/logger.js';
import type { RunEventBody } from '../coordinator/observe/run-events.js';
import type { EvalRequest, EvalResult, Message } from '../shared/protocol/messages.js';

// The round runner alone: a real registry, sends captured instead of a socket (the pool tests cover the wire).
const info = (n: number) => ({ routingId: Buffer.from([n]), name: `w-${n}`, host: 'h', pid: n, backend: 'wasm' });
const spec: RoundSpec<number[]> = {
  kind: 'eval', answer: 'eval-result', refusal: 'ERR_BAD_MESSAGE', context: { split: 'test' },
  task: (task, piece) => ({ type: 'eval-request', taskId: task, split: 'test', sampleIndices: piece.indices, weightsVersion: 0 }),
  read: (answer) => answer.sampleCount === 0 ? { ok: false, problem: 'empty' } : { ok: true, result: [answer.sampleCount] },
};

function setup() {
  const registry = new WorkerRegistry();
  const sent: { worker: WorkerRecord; request: EvalRequest }[] = [];
  const outrun: [string, TaskId][] = [];
  let next = 1;
  const events: RunEventBody[] = [];
  const runner = new RoundRunner(spec, 6, { registry, log: silentLogger(), nextTaskId: () => taskId(next++), busy: (w) => w.tasks.size > 0, freeInMs: () => 0,
    outrun: (w, task) => outrun.push([w.id, task]), event: (body) => events.push(body),
    sendTask: (worker, _task, _samples, message: Message) => { if (message.type === 'eval-request') sent.push({ worker, request: message }); } });
  return { registry, sent, runner, outrun, events };
}
const answer = (task: TaskId, sampleCount: number): EvalResult => ({ type: 'eval-result', taskId: task, sampleCount, heads: [] });

test('a round splits its samples over the live workers and takes each answer once, from its holder', async (t) => {
  const { registry, sent, runner } = setup();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  const finished = runner.run(Uint32Array.from([0, 1, 2, 3, 4, 5]));
  t.deepEqual(sent.map((s) => [s.worker.id, [...s.request.sampleIndices]]), [[a.id, [0, 1, 2]], [b.id, [3, 4, 5]]]);
  const [toA, toB] = sent.map((s) => s.request.taskId);
  t.like(runner.answer(b, answer(toA!, 3)), { kind: 'stale' }, 'only the holder may answer');
  t.like(runner.answer(a, { type: 'gradients', taskId: toA!, stepId: stepId(0), sampleCount: 3, grads: [], heads: [], computeMs: 1 }),
    { kind: 'stale' }, 'an answer of the other kind is stale');
  t.like(runner.answer(a, answer(toA!, 0)), { kind: 'refused', code: 'ERR_BAD_MESSAGE', reason: 'empty' });
  t.like(runner.answer(a, answer(toA!, 2)), { kind: 'refused', reason: 'eval-result wrong-count (2 samples for a task of 3)' });
  t.like(runner.answer(b, answer(toB!, 3)), { kind: 'accepted' });
  t.like(runner.answer(b, answer(toB!, 3)), { kind: 'stale' }, 'a duplicate is not counted twice');
  t.deepEqual([...b.tasks], []);
  t.like(runner.answer(a, answer(toA!, 3)), { kind: 'accepted' });
  t.deepEqual(await finished, [[3], [3]]);
});

test('a departed worker\'s piece goes to the others; with nobody left it waits for a joiner', async (t) => {
  const { registry, sent, runner, events } = setup();
  const a = registry.register(info(1), 0);
  const finished = runner.run(Uint32Array.from([0, 1, 2, 3, 4, 5]));
  const first = sent[0]!.request.taskId;
  runner.reclaim(a, registry.markGone(a.id, 'lost'), 'departed');
  t.is(sent.length, 1, 'no live worker: the piece is parked, not sent');
  t.deepEqual(events, [{ kind: 'task-reassigned', from: a.name, pieces: 1, samples: 6, round: 'eval' }], 'the reassignment is reported');
  t.like(runner.answer(a, answer(first, 6)), { kind: 'stale' }, 'the lost worker\'s late answer is dropped');
  const b = registry.register(info(2), 0);
  runner.workerJoined();
  t.is(sent.length, 2);
  t.is(sent[1]!.worker.id, b.id);
  t.deepEqual([...sent[1]!.request.sampleIndices], [0, 1, 2, 3, 4, 5]);
  t.like(runner.answer(b, answer(sent[1]!.request.taskId, 6)), { kind: 'accepted' });
  t.deepEqual(await finished, [[6]]);
});

test('a straggler\'s piece gets a backup on the next idle worker; the first answer wins and the other is dropped', async (t) => {
  const { registry, sent, runner, outrun } = setup();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  const finished = runner.run(Uint32Array.from([0, 1, 2, 3, 4, 5]));
  const [toA, toB] = sent.map((s) => s.request.taskId);
  runner.straggling(a);
  t.is(sent.length, 2, 'b still holds its own piece: no idle worker to back a up');
  t.like(runner.answer(b, answer(toB!, 3)), { kind: 'accepted' });
  t.is(sent.length, 3, 'b is idle now and takes a backup of a\'s piece');
  t.is(sent[2]!.worker.id, b.id);
  t.deepEqual([...sent[2]!.request.sampleIndices], [0, 1, 2], 'the same piece');
  t.like(runner.answer(b, answer(sent[2]!.request.taskId, 3)), { kind: 'accepted' });
  t.deepEqual(outrun, [[a.id, toA]], 'the straggler was outrun by its backup: that miss counts');
  t.like(runner.answer(a, answer(toA!, 3)), { kind: 'stale' }, 'the straggler\'s late answer is dropped by task id');
  t.deepEqual([...a.tasks], [], 'the withdrawn task is no longer a\'s');
  t.deepEqual(await finished, [[3], [3]]);
});

test('when the straggler answers first, the backup is withdrawn; a departed backup does not re-split the piece', async (t) => {
  const { registry, sent, runner, outrun } = setup();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  const c = registry.register(info(3), 0);
  const finished = runner.run(Uint32Array.from([0, 1, 2, 3, 4, 5]));
  const [toA, toB, toC] = sent.map((s) => s.request.taskId);
  t.like(runner.answer(c, answer(toC!, 2)), { kind: 'accepted' });
  runner.straggling(a);
  const backup = sent[3]!;
  t.is(backup.worker.id, c.id);
  // The backup's worker leaves: a still holds the piece, so nothing is reassigned.
  runner.reclaim(c, registry.markGone(c.id, 'left'), 'departed');
  t.is(sent.length, 4);
  t.like(runner.answer(a, answer(toA!, 2)), { kind: 'accepted' });
  t.like(runner.answer(b, answer(toB!, 2)), { kind: 'accepted' });
  t.like(runner.answer(c, answer(backup.request.taskId, 2)), { kind: 'stale' });
  t.deepEqual(outrun, [], 'a withdrawn backup counts against no one');
  t.deepEqual(await finished, [[2], [2], [2]]);
});

test('a round plans by fitted task times, evaluations by step times until every worker has timed one', (t) => {
  const registry = new WorkerRegistry();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  t.deepEqual(plannedTimes([a, b], 'step').map((c) => [c.fixedMs, c.perSampleMs]), [[0, 1], [0, 1]], 'no one timed: even');
  for (const n of [10, 30]) a.taskTimes.step.observe(n, 100 + n);
  t.deepEqual(plannedTimes([a, b], 'step').map((c) => [Math.round(c.fixedMs), Math.round(c.perSampleMs)]), [[100, 1], [100, 1]],
    'an untimed worker is planned as the mean of the timed ones');
  a.taskTimes.eval.observe(10, 10);
  t.is(Math.round(plannedTimes([a, b], 'eval')[0]!.fixedMs), 100, 'b has no evaluation time: both planned by step times');
});
