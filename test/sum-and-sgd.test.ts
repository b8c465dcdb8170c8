import test from 'ava';
import { sumAndSgdStep, type SgdOptions } from '../coordinator/step-exchange/sum-and-sgd.js';

const tensor = (name: string, values: number[]) => ({ name, shape: [values.length], data: Float32Array.from(values) });
const plain: SgdOptions = { learningRate: 1, momentum: 0, weightDecay: 0 };
/** With weights 0 and lr 1, a plain step leaves -(mean gradient): the averaging on its own. */
const meanGradient = (shards: number[][][], total: number): number[] =>
  [...sumAndSgdStep([tensor('w', shards[0]![0]!.map(() => 0))], shards.map((s) => [tensor('w', s[0]!)]), total, [], plain)
    .params[0]!.data].map((v) => -v);

test('uneven shards are weighted by sample count: the mean over the whole batch', (t) => {
  // Per-sample gradients 1, 2, 3, 4, 5 (one weight). Shard A holds samples {1}, shard B {2,3,4,5}: sums 1 and 14.
  // The mean over the batch is 3; a mean of shard means would give (1 + 3.5) / 2 = 2.25.
  t.deepEqual(meanGradient([[[1]], [[14]]], 5), [3]);
  // Three shards of 1, 2 and 5 samples of per-sample gradients 2, (4, 6), (1, 1, 1, 1, 8): 2 + 10 + 12 = 24 over 8.
  t.deepEqual(meanGradient([[[2]], [[10]], [[12]]], 8), [3]);
});

test('averaging is independent of how the batch is split', (t) => {
  const perSample = Array.from({ length: 12 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 0.7)]);
  const sum = (rows: number[][]) => rows.reduce((a, r) => [a[0]! + r[0]!, a[1]! + r[1]!], [0, 0]);
  const splits = [[12], [6, 6], [1, 4, 7], [3, 3, 3, 3]];
  const results = splits.map((sizes) => {
    let start = 0;
    return meanGradient(sizes.map((n) => [sum(perSample.slice(start, (start += n)))]), 12);
  });
  const exact = sum(perSample).map((v) => v / 12);
  for (const r of results) {
    t.true(Math.abs(r[0]! - results[0]![0]!) < 1e-6 && Math.abs(r[1]! - results[0]![1]!) < 1e-6);
    t.true(Math.abs(r[0]! - exact[0]!) < 1e-6 && Math.abs(r[1]! - exact[1]!) < 1e-6, 'and equal to the float64 mean');
  }
});

test('the fused step equals summing in float64, rounding the mean to float32, then stepping', (t) => {
  // Values whose float32 sums differ from the float64 sum: the step must use the float64 one, rounded once.
  const shards = [[1e8, 0.1], [1, 0.2], [-1e8, 0.3]];
  const w = [0.5, -0.25];
  const lr = 0.1;
  const out = sumAndSgdStep([tensor('w', w)], shards.map((s) => [tensor('w', s)]), 3, [], { ...plain, learningRate: lr }).params[0]!.data;
  const expected = w.map((wk, k) => {
    const g = Math.fround(shards.reduce((acc, s) => acc + Math.fround(s[k]!), 0) / 3);
    return Math.fround(wk - lr * g);
  });
  t.deepEqual([...out], expected);
});

test('averaging refuses mismatched shards and empty input', (t) => {
  const w = [tensor('w', [0])];
  t.throws(() => sumAndSgdStep(w, [[tensor('w', [1])], [tensor('v', [1])]], 2, [], plain), { message: /does not match/ });
  t.throws(() => sumAndSgdStep(w, [], 1, [], plain), { message: /zero shards/ });
  t.throws(() => sumAndSgdStep(w, [[tensor('w', [1])]], 0, [], plain), { message: /0 samples/ });
  t.throws(() => sumAndSgdStep(w, [[tensor('w', [1, 2])]], 1, [], plain), { message: /does not match parameter 'w'/ });
  t.throws(() => sumAndSgdStep(w, [[]], 1, [], plain), { message: /shard has 0 tensors/ });
});

test('plain SGD: p - lr * g, inputs untouched', (t) => {
  const params = [tensor('w', [1, 2])];
  const grads = [tensor('w', [0.5, -1])];
  const out = sumAndSgdStep(params, [grads], 1, [], { learningRate: 0.1, momentum: 0, weightDecay: 0 });
  t.deepEqual([...out.params[0]!.data], [Math.fround(0.95), Math.fround(2.1)]);
  t.deepEqual([...params[0]!.data], [1, 2]);
  t.deepEqual([...grads[0]!.data], [0.5, -1]);
  t.deepEqual(out.state, []);
});

test('SGD with momentum and weight decay follows PyTorch', (t) => {
  // PyTorch: g' = g + wd*p; buf = g' (first), then mu*buf + g'; p -= lr*buf.
  const opts = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
  const first = sumAndSgdStep([tensor('w', [1])], [[tensor('w', [1])]], 1, [], opts);
  const g1 = 1 + 0.01 * 1;
  t.true(Math.abs(first.params[0]!.data[0]! - (1 - 0.1 * g1)) < 1e-6);
  const p1 = first.params[0]!.data[0]!;
  const second = sumAndSgdStep(first.params, [[tensor('w', [1])]], 1, first.state, opts);
  const g2 = 1 + 0.01 * p1;
  t.true(Math.abs(second.params[0]!.data[0]! - (p1 - 0.1 * (0.9 * g1 + g2))) < 1e-6);
});
