import test from 'ava';
import { planShards, shareSizes } from '../coordinator/pool/shard-plan.js';
import { workerId } from '../shared/protocol/ids.js';

const batch = (n: number) => Uint32Array.from({ length: n }, (_, i) => 100 + i);

test('shares add up to the total and follow the speeds', (t) => {
  t.deepEqual(shareSizes(32, [1, 1]), [16, 16]);
  t.deepEqual(shareSizes(32, [3, 1]), [24, 8]);
  t.deepEqual(shareSizes(10, [1, 1, 1]), [4, 3, 3]);
  for (const [total, weights] of [[97, [0.3, 2.2, 5]], [1, [1, 1, 1]], [1000, [1e-3, 1]]] as const) {
    t.is(shareSizes(total, weights).reduce((a, b) => a + b, 0), total);
  }
});

test('a fast and a slow worker split a batch 3:1 in contiguous slices covering it once', (t) => {
  const shards = planShards(batch(32), [{ id: workerId('fast'), speed: 300 }, { id: workerId('slow'), speed: 100 }]);
  t.deepEqual(shards.map((s) => [s.worker, s.offset, s.indices.length]), [['fast', 0, 24], ['slow', 24, 8]]);
  const seen = shards.flatMap((s) => [...s.indices]);
  t.deepEqual(seen, [...batch(32)]);
});

test('workers whose share rounds to zero get no shard', (t) => {
  const shards = planShards(batch(2), [{ id: workerId('a'), speed: 1 }, { id: workerId('b'), speed: 1 }, { id: workerId('c'), speed: 1 }]);
  t.is(shards.length, 2);
  t.is(shards.reduce((n, s) => n + s.indices.length, 0), 2);
});

test('planning refuses no workers and bad speeds', (t) => {
  t.throws(() => planShards(batch(4), []), { instanceOf: RangeError, message: /no workers/ });
  t.throws(() => planShards(batch(4), [{ id: workerId('a'), speed: Number.NaN }]), { message: /speed NaN/ });
  t.deepEqual(planShards(batch(0), []), []);
});
