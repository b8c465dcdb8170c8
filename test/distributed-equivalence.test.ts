import test from 'ava';
import { stepsPerEpoch } from '../coordinator/trainer/epoch-schedule.js';
import { maxRelativeDifference, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';

// Same seed, same global batch: one worker and three workers must reach the same weights (to float rounding),
// because the coordinator averages sum-gradients weighted by sample count. Real ZeroMQ sockets, real images.
test('1 worker and 3 workers reach the same weights after several steps', async (t) => {
  const data = await omniglotSubset(2);
  // Train on a fixed prefix of steps: epochs of the 2-alphabet subset are short, one is enough for ~8 steps.
  const globalBatch = 64;
  t.true(stepsPerEpoch(data.train.size, globalBatch) >= 4);
  const one = await trainWith({ data, workers: 1, globalBatch });
  const three = await trainWith({ data, workers: 3, globalBatch });
  const initial = (await import('../shared/model/initial-params.js')).initialParams('two-output', 7);
  t.true(maxRelativeDifference(one.state.params, initial) > 1e-3, 'training moved the weights');
  const diff = maxRelativeDifference(three.state.params, one.state.params);
  t.log(`1 vs 3 workers: max relative weight difference ${diff.toExponential(2)}`);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
  t.deepEqual(three.state.history[0]!.test.map((h) => h.count), one.state.history[0]!.test.map((h) => h.count));
  t.is(one.state.history[0]!.test[0]!.count, data.test.size);
});
