import test from 'ava';
import { summarizeHeads } from '../coordinator/head-metrics.js';
import { sumAgreement, sumHeadStats } from '../shared/model/head-stats.js';

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
