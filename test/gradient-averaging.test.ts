import test from 'ava';
import { averageGradients } from '../coordinator/average-gradients.js';
import { gradientProblem } from '../coordinator/answer-check.js';
import { sgdStep } from '../coordinator/sgd.js';

const tensor = (name: string, values: number[]) => ({ name, shape: [values.length], data: Float32Array.from(values) });

test('uneven shards are weighted by sample count: the mean over the whole batch', (t) => {
  // Per-sample gradients 1, 2, 3, 4, 5 (one weight). Shard A holds samples {1}, shard B {2,3,4,5}: sums 1 and 14.
  const mean = averageGradients([[tensor('w', [1])], [tensor('w', [14])]], 5);
  t.is(mean[0]!.data[0], 3);
  // A mean of shard means would give (1 + 3.5) / 2 = 2.25: the test can tell the two apart.
  t.not(mean[0]!.data[0], 2.25);
});

test('averaging is independent of how the batch is split', (t) => {
  const perSample = Array.from({ length: 12 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 0.7)]);
  const sum = (rows: number[][]) => rows.reduce((a, r) => [a[0]! + r[0]!, a[1]! + r[1]!], [0, 0]);
  const splits = [[12], [6, 6], [1, 4, 7], [3, 3, 3, 3]];
  const results = splits.map((sizes) => {
    let start = 0;
    const shards = sizes.map((n) => {
      const part = perSample.slice(start, (start += n));
      return [tensor('w', sum(part))];
    });
    return [...averageGradients(shards, 12)[0]!.data];
  });
  for (const r of results) {
    t.true(Math.abs(r[0]! - results[0]![0]!) < 1e-6 && Math.abs(r[1]! - results[0]![1]!) < 1e-6);
  }
});

test('averaging refuses mismatched shards and empty input', (t) => {
  t.throws(() => averageGradients([[tensor('w', [1])], [tensor('v', [1])]], 2), { message: /does not match/ });
  t.throws(() => averageGradients([], 1), { message: /zero shards/ });
  t.throws(() => averageGradients([[tensor('w', [1])]], 0), { message: /0 samples/ });
});

test('plain SGD: p - lr * g, inputs untouched', (t) => {
  const params = [tensor('w', [1, 2])];
  const out = sgdStep(params, [tensor('w', [0.5, -1])], [], { learningRate: 0.1, momentum: 0, weightDecay: 0 });
  t.deepEqual([...out.params[0]!.data], [Math.fround(0.95), Math.fround(2.1)]);
  t.deepEqual([...params[0]!.data], [1, 2]);
  t.deepEqual(out.state, []);
});

test('SGD with momentum and weight decay follows PyTorch', (t) => {
  // PyTorch: g' = g + wd*p; buf = g' (first), then mu*buf + g'; p -= lr*buf.
  const opts = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
  const first = sgdStep([tensor('w', [1])], [tensor('w', [1])], [], opts);
  const g1 = 1 + 0.01 * 1;
  t.true(Math.abs(first.params[0]!.data[0]! - (1 - 0.1 * g1)) < 1e-6);
  const p1 = first.params[0]!.data[0]!;
  const second = sgdStep(first.params, [tensor('w', [1])], first.state, opts);
  const g2 = 1 + 0.01 * p1;
  t.true(Math.abs(second.params[0]!.data[0]! - (p1 - 0.1 * (0.9 * g1 + g2))) < 1e-6);
});

test('gradient check names the bad tensor', (t) => {
  const spec = [{ name: 'a', shape: [2] }, { name: 'b', shape: [1] }];
  t.is(gradientProblem([tensor('a', [1, 2]), tensor('b', [3])], spec), undefined);
  t.regex(gradientProblem([tensor('a', [1, 2])], spec) ?? '', /1 gradient tensors, the model has 2/);
  t.regex(gradientProblem([tensor('a', [1, 2]), tensor('c', [3])], spec) ?? '', /named 'c', expected 'b'/);
  t.regex(gradientProblem([tensor('a', [1]), tensor('b', [3])], spec) ?? '', /shape \[1\], expected \[2\]/);
  t.regex(gradientProblem([tensor('a', [1, Number.NaN]), tensor('b', [3])], spec) ?? '', /non-finite value \(NaN\) at 1/);
  t.regex(gradientProblem([tensor('a', [1, 2]), tensor('b', [Infinity])], spec) ?? '', /non-finite value \(Infinity\)/);
});
