import test from 'ava';
import { WorkerRegistry } from '../coordinator/pool/worker-registry.js';
import { taskId } from '../shared/protocol/ids.js';

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
