import test from 'ava';
import { RoundRunner, type RoundSpec } from '../coordinator/pool/round-runner.js';
import { WorkerRegistry, type WorkerRecord } from '../coordinator/pool/worker-registry.js';
import { stepId, taskId, type TaskId } from '../shared/protocol/ids.js';
import { silentLogger } from '../shared/common/logger.js';
import type { RunEventBody } from '../coordinator/observe/run-events.js';
import type { EvalRequest, EvalResult, Message } from '../shared/protocol/messages.js';

// The round runner alone: a real registry, sends captured instead of a socket (the pool tests cover the wire).
const info = (n: number) => ({ routingId: Buffer.from([n]), name: `w-${n}`, host: 'h', pid: n, backend: 'wasm' });
const spec: RoundSpec<number[]> = {
  kind: 'eval', answer: 'eval-result', refusal: 'ERR_BAD_MESSAGE', timesWorkers: false, context: { split: 'test' },
  task: (task, piece) => ({ type: 'eval-request', taskId: task, split: 'test', sampleIndices: piece.indices, weightsVersion: 0 }),
  read: (answer) => answer.sampleCount === 0 ? { ok: false, problem: 'empty' } : { ok: true, result: [answer.sampleCount] },
};

function setup() {
  const registry = new WorkerRegistry();
  const sent: { worker: WorkerRecord; request: EvalRequest }[] = [];
  let next = 1;
  const events: RunEventBody[] = [];
  const runner = new RoundRunner(spec, 6, { registry, log: silentLogger(), nextTaskId: () => taskId(next++),
    event: (body) => events.push(body),
    send: (worker, message: Message) => { if (message.type === 'eval-request') sent.push({ worker, request: message }); } });
  return { registry, sent, runner, events };
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
