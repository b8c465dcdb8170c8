import test from 'ava';
import { gradientProblem, headsProblem } from '../coordinator/answer-check.js';

const tensor = (name: string, values: number[]) => ({ name, shape: [values.length], data: Float32Array.from(values) });

test('gradient check names the bad tensor', (t) => {
  const spec = [{ name: 'a', shape: [2] }, { name: 'b', shape: [1] }];
  t.is(gradientProblem([tensor('a', [1, 2]), tensor('b', [3])], spec), undefined);
  t.regex(gradientProblem([tensor('a', [1, 2])], spec) ?? '', /1 gradient tensors, the model has 2/);
  t.regex(gradientProblem([tensor('a', [1, 2]), tensor('c', [3])], spec) ?? '', /named 'c', expected 'b'/);
  t.regex(gradientProblem([tensor('a', [1]), tensor('b', [3])], spec) ?? '', /shape \[1\], expected \[2\]/);
  t.regex(gradientProblem([tensor('a', [1, Number.NaN]), tensor('b', [3])], spec) ?? '', /non-finite value \(NaN\) at 1/);
  t.regex(gradientProblem([tensor('a', [1, 2]), tensor('b', [Infinity])], spec) ?? '', /non-finite value \(Infinity\)/);
});

test('head check wants every head of the model, each counting every sample of the task', (t) => {
  const stat = (head: 'alphabet' | 'character', correct: number, count: number) => ({ head, lossSum: 1, correct, count });
  t.is(headsProblem([stat('alphabet', 1, 2), stat('character', 2, 2)], ['alphabet', 'character'], 2), undefined);
  t.regex(headsProblem([stat('alphabet', 1, 2)], ['alphabet', 'character'], 2) ?? '', /head stats for 'character' missing \(the model has alphabet, character\)/);
  t.regex(headsProblem([stat('alphabet', 1, 2)], ['character'], 2) ?? '', /head stats for 'character' missing/);
  t.regex(headsProblem([stat('character', 1, 2), stat('alphabet', 1, 2)], ['character'], 2) ?? '', /2 head stats, the model has 1/);
  t.regex(headsProblem([stat('character', 1, 2), stat('character', 1, 2)], ['alphabet', 'character'], 2) ?? '', /'alphabet' missing/);
  t.regex(headsProblem([stat('character', 1, 3)], ['character'], 2) ?? '', /head 'character' counts 3\/1 for 2 samples/);
  t.regex(headsProblem([stat('character', 3, 2)], ['character'], 2) ?? '', /counts 2\/3 for 2 samples/);
});
