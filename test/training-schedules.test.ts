import test from 'ava';
import { epochPermutation, globalBatchAt, stepsPerEpoch } from '../coordinator/trainer/epoch-schedule.js';
import { learningRateAt } from '../coordinator/lr-schedule.js';

test('the epoch shuffle is a permutation fixed by (seed, epoch)', (t) => {
  const a = epochPermutation(42, 0, 1000);
  t.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  t.deepEqual(epochPermutation(42, 0, 1000), a);
  t.notDeepEqual(epochPermutation(42, 1, 1000), a);
  t.notDeepEqual(epochPermutation(43, 0, 1000), a);
});

test('global batches cover the epoch once, the last one keeping the remainder', (t) => {
  const order = epochPermutation(1, 0, 70);
  const steps = stepsPerEpoch(70, 32);
  t.is(steps, 3);
  const sizes = Array.from({ length: steps }, (_, s) => globalBatchAt(order, 32, s).length);
  t.deepEqual(sizes, [32, 32, 6]);
  const all = Array.from({ length: steps }, (_, s) => [...globalBatchAt(order, 32, s)]).flat();
  t.is(new Set(all).size, 70);
});

test('learning-rate schedules', (t) => {
  const at = (epoch: number, stepInEpoch = 0) => ({ epoch, stepInEpoch, stepsPerEpoch: 10, epochs: 10 });
  t.is(learningRateAt(0.1, { kind: 'constant' }, at(7)), 0.1);
  t.true(Math.abs(learningRateAt(0.1, { kind: 'step', everyEpochs: 3, gamma: 0.5 }, at(7)) - 0.025) < 1e-12);
  t.is(learningRateAt(0.1, { kind: 'cosine', minFactor: 0 }, at(0)), 0.1);
  t.true(Math.abs(learningRateAt(0.1, { kind: 'cosine', minFactor: 0 }, at(5)) - 0.05) < 1e-12);
  t.true(learningRateAt(0.1, { kind: 'cosine', minFactor: 0.1 }, at(9, 9)) > 0.01);
});
