import test from 'ava';
import { epochPermutation, globalBatchAt, stepsPerEpoch } from '../coordinator/trainer/epoch-schedule.js';
import { learningRateAt, scaledLearningRateAt } from '../coordinator/lr-schedule.js';

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

test('linear scaling: the peak rate is base x batch / base batch, ramped in linearly from the base rate', (t) => {
  const at = (epoch: number, stepInEpoch = 0) => ({ epoch, stepInEpoch, stepsPerEpoch: 10, epochs: 10 });
  const linear = { kind: 'linear', baseBatch: 32, warmupEpochs: 2 } as const;
  const close = (a: number, b: number) => t.true(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, linear, 256, at(0)), 0.01);
  // Half way through the first of two warmup epochs: a quarter of the way from 0.01 to 0.08.
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, linear, 256, at(0, 5)), 0.01 + 0.07 * 0.25);
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, linear, 256, at(1, 9)), 0.01 + 0.07 * 0.95);
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, linear, 256, at(2)), 0.08);
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, linear, 128, at(9, 9)), 0.04);
  // No warmup: the peak from the first step; no scaling: the plain schedule whatever the batch.
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, { ...linear, warmupEpochs: 0 }, 64, at(0)), 0.02);
  close(scaledLearningRateAt(0.01, { kind: 'constant' }, { kind: 'none' }, 256, at(5)), 0.01);
  // After warmup the schedule applies to the peak: step decay halves 0.08 at epoch 3.
  close(scaledLearningRateAt(0.01, { kind: 'step', everyEpochs: 3, gamma: 0.5 }, linear, 256, at(3)), 0.04);
});
