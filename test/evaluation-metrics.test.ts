import test from 'ava';
import { summarizeHeads } from '../coordinator/head-metrics.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';
import { epochPermutation, globalBatchAt, stepsPerEpoch } from '../coordinator/epoch-schedule.js';
import { learningRateAt } from '../coordinator/lr-schedule.js';

test('per-head accuracy over uneven shards is sum(correct)/sum(total)', (t) => {
  // Shard 1: 1 of 1 right; shard 2: 1 of 9 right. Exact accuracy 2/10; the mean of shard accuracies would be 0.556.
  const stats = sumHeadStats([
    [{ head: 'alphabet', lossSum: 0.5, correct: 1, count: 1 }, { head: 'character', lossSum: 2, correct: 0, count: 1 }],
    [{ head: 'alphabet', lossSum: 4.5, correct: 1, count: 9 }, { head: 'character', lossSum: 18, correct: 3, count: 9 }],
  ]);
  const summary = summarizeHeads(stats);
  t.deepEqual(summary.map((h) => [h.head, h.accuracy, h.meanLoss, h.count]), [
    ['alphabet', 0.2, 0.5, 10],
    ['character', 0.3, 2, 10],
  ]);
});

test('agreement figures add up and are absent for models without them', (t) => {
  t.deepEqual(sumAgreement([{ agree: 1, impliedCorrect: 2, count: 3 }, undefined, { agree: 4, impliedCorrect: 5, count: 6 }]),
    { agree: 5, impliedCorrect: 7, count: 9 });
  t.is(sumAgreement([undefined]), undefined);
});

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
