import test from 'ava';
import { makespanMs, makespanShares, planShards } from '../coordinator/pool/shard-plan.js';
import { predictTaskMs, type TaskTimeFit } from '../coordinator/pool/task-time-model.js';
import { workerId } from '../shared/protocol/ids.js';

const batch = (n: number) => Uint32Array.from({ length: n }, (_, i) => 100 + i);
const rate = (samplesPerMs: number): TaskTimeFit => ({ fixedMs: 0, perSampleMs: 1 / samplesPerMs });

/** The best split of `total` over two workers, by trying every one. */
function bestTwoWay(total: number, fits: readonly [TaskTimeFit, TaskTimeFit]): number {
  let best = Infinity;
  for (let a = 0; a <= total; a++) best = Math.min(best, makespanMs(fits, [a, total - a]));
  return best;
}

test('with no fixed cost, shares follow the rates and add up to the total', (t) => {
  t.deepEqual(makespanShares(32, [rate(1), rate(1)]), [16, 16]);
  t.deepEqual(makespanShares(32, [rate(3), rate(1)]), [24, 8]);
  t.deepEqual(makespanShares(10, [rate(1), rate(1), rate(1)]), [4, 3, 3]);
  for (const [total, rates] of [[97, [0.3, 2.2, 5]], [1, [1, 1, 1]], [1000, [1e-3, 1]]] as const) {
    t.is(makespanShares(total, rates.map(rate)).reduce((a, b) => a + b, 0), total);
  }
});

test('two workers of different fixed and per-sample costs: the split is within 10% of the best step time', (t) => {
  // Like a PyTorch worker (large per-call overhead, cheaper per sample) beside a wasm one.
  const cases: [TaskTimeFit, TaskTimeFit][] = [
    [{ fixedMs: 200, perSampleMs: 1 }, { fixedMs: 20, perSampleMs: 1.5 }],
    [{ fixedMs: 5, perSampleMs: 4 }, { fixedMs: 120, perSampleMs: 0.5 }],
    [{ fixedMs: 50, perSampleMs: 2 }, { fixedMs: 50, perSampleMs: 2 }],
    [{ fixedMs: 400, perSampleMs: 0.2 }, { fixedMs: 0, perSampleMs: 3 }],
  ];
  for (const fits of cases) {
    for (const total of [8, 32, 64, 128, 500]) {
      const planned = makespanMs(fits, makespanShares(total, fits));
      const best = bestTwoWay(total, fits);
      t.true(planned <= best * 1.1, `${JSON.stringify(fits)} x ${total}: planned ${planned} ms, best ${best} ms`);
    }
  }
  // A rate alone (samples per ms, measured on an even split) gives the high-overhead worker a share that costs it its
  // whole fixed cost, and the step takes almost twice as long.
  const torchLike: [TaskTimeFit, TaskTimeFit] = [{ fixedMs: 200, perSampleMs: 1 }, { fixedMs: 20, perSampleMs: 1.5 }];
  const byRate = makespanShares(64, torchLike.map((f) => rate(32 / predictTaskMs(f, 32))));
  t.true(makespanMs(torchLike, byRate) > 1.5 * bestTwoWay(64, torchLike), 'the fitted model matters here');
  t.deepEqual(makespanShares(64, torchLike), [0, 64], 'its fixed cost alone exceeds the other worker doing all of it');
});

test('a fast and a slow worker split a batch 3:1 in contiguous slices covering it once', (t) => {
  const shards = planShards(batch(32), [{ id: workerId('fast'), ...rate(300) }, { id: workerId('slow'), ...rate(100) }]);
  t.deepEqual(shards.map((s) => [s.worker, s.offset, s.indices.length]), [['fast', 0, 24], ['slow', 24, 8]]);
  const seen = shards.flatMap((s) => [...s.indices]);
  t.deepEqual(seen, [...batch(32)]);
});

test('a worker still busy starts later and gets less', (t) => {
  const shards = planShards(batch(30), [{ id: workerId('a'), ...rate(1) }, { id: workerId('b'), ...rate(1), readyInMs: 10 }]);
  t.deepEqual(shards.map((s) => s.indices.length), [20, 10]);
});

test('workers whose share is zero get no shard', (t) => {
  const shards = planShards(batch(2), [{ id: workerId('a'), ...rate(1) }, { id: workerId('b'), ...rate(1) }, { id: workerId('c'), ...rate(1) }]);
  t.is(shards.length, 2);
  t.is(shards.reduce((n, s) => n + s.indices.length, 0), 2);
});

test('planning refuses no workers and bad costs', (t) => {
  t.throws(() => planShards(batch(4), []), { instanceOf: RangeError, message: /no workers/ });
  t.throws(() => planShards(batch(4), [{ id: workerId('a'), fixedMs: 0, perSampleMs: Number.NaN }]), { message: /NaN ms\/sample/ });
  t.throws(() => planShards(batch(4), [{ id: workerId('a'), fixedMs: -1, perSampleMs: 1 }]), { message: /-1 ms/ });
  t.deepEqual(planShards(batch(0), []), []);
});
