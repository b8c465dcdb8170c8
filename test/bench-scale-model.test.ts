import test from 'ava';
import { boundMs, chooseDilation, predictStepMs, scalingEfficiency } from '../scripts/bench/scale/link-model.js';

test('the bandwidth-optimal bound: compute + 2(N-1)/N x M / B', (t) => {
  // 8.9 MB of gradients on 10 Gbit/s: 7.12 ms per full copy; 32 workers move 2 x 31/32 of it.
  t.true(Math.abs(boundMs({ workers: 32, computeMs: 43, gradientBytes: 8.9e6, bitsPerSecond: 10e9 }) - (43 + 2 * (31 / 32) * 7.12)) < 1e-9);
  t.is(boundMs({ workers: 1, computeMs: 43, gradientBytes: 8.9e6, bitsPerSecond: 1e9 }), 43);
  t.is(scalingEfficiency(50, 62.5), 0.8);
});

test('the clock slows only as much as the cores need, and the prediction grows with the workers', (t) => {
  t.is(predictStepMs({ workers: 8, computeMs: 40, boundMs: 50 }), 50);
  t.is(predictStepMs({ workers: 8, computeMs: 40, boundMs: 50, previous: { workers: 4, stepMs: 100 } }), 40 + 60 * 2);
  t.is(predictStepMs({ workers: 8, computeMs: 40, boundMs: 500, previous: { workers: 4, stepMs: 100 } }), 500);
  t.is(chooseDilation({ workers: 4, cpuMsPerWorkerStep: 10, predictedStepMs: 100, cores: 2, utilisation: 0.5 }), 1);
  // 64 x 20 ms of CPU against 2 cores at half use over a 160 ms step: 1280 / 160 = 8.
  t.is(chooseDilation({ workers: 64, cpuMsPerWorkerStep: 20, predictedStepMs: 160, cores: 2, utilisation: 0.5 }), 8);
  t.is(chooseDilation({ workers: 64, cpuMsPerWorkerStep: 20, predictedStepMs: 159, cores: 2, utilisation: 0.5 }), 9);
});
