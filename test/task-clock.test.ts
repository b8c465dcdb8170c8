import test from 'ava';
import { TaskClock } from '../coordinator/pool/task-clock.js';
import { WorkerRegistry } from '../coordinator/pool/worker-registry.js';
import { taskId } from '../shared/protocol/ids.js';

const info = (n: number) => ({ routingId: Buffer.from([n]), name: `w-${n}`, host: 'h', pid: n, backend: 'wasm' });
const policy = { factor: 2, minMs: 100, warmupMs: 1000, maxMisses: 3 };

test('a worker\'s tasks run one after another: the second\'s clock starts at the first\'s answer', (t) => {
  const registry = new WorkerRegistry();
  const a = registry.register(info(1), 0);
  for (const n of [10, 30]) a.taskTimes.step.observe(n, 100 + 10 * n);
  const clock = new TaskClock(policy);
  clock.started(taskId(1), a, 'step', 10, () => [a], 0); // predicted 200 ms, deadline 400
  clock.started(taskId(2), a, 'step', 10, () => [a], 0);
  t.true(clock.busy(a.id));
  t.is(Math.round(clock.freeInMs(a.id, 50)!), 350, 'two tasks of 200 ms, 50 ms in');
  t.deepEqual(clock.overdue(390), []);
  t.like(clock.answered(taskId(1), a, 390), { inTime: true });
  t.deepEqual(clock.overdue(700), [], 'the second started at 390, not at 0');
  const late = clock.overdue(800);
  t.like(late, [{ task: 2, missed: 1, timed: true }]);
  t.is(clock.freeInMs(a.id, 800), undefined, 'late on a task: no telling when it is free');
  t.deepEqual(clock.overdue(1900), [], 'a late task counts again only after a repeat span (3 deadlines here)');
  t.like(clock.overdue(2000), [{ task: 2, missed: 2 }]);
  t.like(clock.answered(taskId(2), a, 2100), { inTime: false });
  t.false(clock.busy(a.id));
  t.is(clock.freeInMs(a.id, 2100), 0);
});

test('a newcomer gets a warm-up deadline; failures and departures time nothing', (t) => {
  const registry = new WorkerRegistry();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  const clock = new TaskClock(policy);
  clock.started(taskId(1), b, 'eval', 5, () => [a, b], 0);
  t.like(clock.overdue(1000), [{ task: 1, timed: false, deadlineMs: 1000 }]);
  clock.failed(taskId(1), b, 1100);
  t.is(b.taskTimes.eval.fit, undefined, 'a failure is not a timing');
  clock.started(taskId(2), a, 'step', 5, () => [a, b], 0);
  clock.forget(a.id);
  t.false(clock.busy(a.id));
  t.is(clock.answered(taskId(2), a, 10), undefined);
});
