import test from 'ava';
import { TaskRound } from '../coordinator/task-round.js';
import { WorkerRegistry } from '../coordinator/worker-registry.js';
import { taskId, workerId } from '../shared/ids.js';

const info = (n: number) => ({ routingId: Buffer.from([n]), name: `w-${n}`, host: 'h', pid: n, backend: 'wasm' });

test('workers go ready -> lost or left, and hand back the tasks they held', (t) => {
  const registry = new WorkerRegistry();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  t.deepEqual(registry.ready().map((w) => w.id), [a.id, b.id]);
  a.tasks.add(taskId(7));
  t.deepEqual(registry.markGone(a.id, 'lost'), [taskId(7)]);
  t.is(a.state, 'lost');
  t.is(registry.byRoutingId(Buffer.from([1])), undefined, 'a lost worker no longer answers to its routing id');
  t.true(registry.wasRegistered(Buffer.from([1])), 'but its connection is known to have said hello');
  t.true(registry.wasRegistered(Buffer.from([2])));
  t.false(registry.wasRegistered(Buffer.from([3])), 'a connection that never said hello');
  t.deepEqual(registry.markGone(a.id, 'left'), [], 'leaving twice hands back nothing');
  t.is(registry.markGone(b.id, 'left').length, 0);
  t.deepEqual(registry.ready(), []);
});

test('silence past the timeout is what makes a worker lost', (t) => {
  const registry = new WorkerRegistry();
  const a = registry.register(info(1), 0);
  const b = registry.register(info(2), 0);
  b.lastSeenMs = 900;
  t.deepEqual(registry.silent(1000, 500).map((w) => w.id), [a.id]);
});

test('speed is a running mean of samples per second, so a fast worker earns a bigger share', (t) => {
  const registry = new WorkerRegistry();
  const fast = registry.register(info(1), 0);
  const slow = registry.register(info(2), 0);
  registry.recordSpeed(fast.id, 30, 100);
  registry.recordSpeed(slow.id, 10, 100);
  t.is(fast.speed, 300);
  t.is(slow.speed, 100);
  registry.recordSpeed(slow.id, 20, 100);
  t.true(slow.speed > 100 && slow.speed < 200);
  registry.recordSpeed(slow.id, 0, 0);
  t.true(slow.speed > 100 && slow.speed < 200, 'an empty answer does not move the estimate');
});

test('a round takes each piece once, refuses answers from the wrong worker, and hands back a lost piece', async (t) => {
  const round = new TaskRound<string>('step', 5);
  const a = workerId('a');
  const b = workerId('b');
  round.assign(taskId(1), a, { offset: 0, indices: Uint32Array.from([10, 11]) });
  round.assign(taskId(2), b, { offset: 2, indices: Uint32Array.from([12, 13, 14]) });
  t.is(round.complete(taskId(2), a, 3, 'x'), 'wrong-worker');
  t.is(round.complete(taskId(2), b, 2, 'x'), 'wrong-count');
  t.is(round.complete(taskId(2), b, 3, 'second'), 'accepted');
  t.is(round.complete(taskId(2), b, 3, 'again'), 'unknown-task', 'a duplicate answer is not counted twice');
  const piece = round.reclaim(taskId(1));
  t.deepEqual([...piece!.indices], [10, 11]);
  t.is(round.complete(taskId(1), a, 2, 'late'), 'unknown-task', 'the lost worker\'s late answer is dropped');
  round.assign(taskId(3), b, piece!);
  t.is(round.complete(taskId(3), b, 2, 'first'), 'accepted');
  t.deepEqual(await round.finished, ['first', 'second'], 'results come out in batch order, not arrival order');
});
