import test from 'ava';
import { fitTaskTime, predictTaskMs, TaskTimeModel } from '../coordinator/pool/task-time-model.js';

const close = (a: number, b: number, tolerance = 1e-6) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b));

test('least squares recovers a fixed and a per-sample cost from shards of different sizes', (t) => {
  const fit = fitTaskTime([16, 48, 32, 64, 8].map((n) => ({ samples: n, ms: 200 + 1.5 * n })))!;
  t.true(close(fit.fixedMs, 200), `fixed ${fit.fixedMs}`);
  t.true(close(fit.perSampleMs, 1.5), `per sample ${fit.perSampleMs}`);
  t.true(close(predictTaskMs(fit, 100), 350));
});

test('fallbacks: shards all of one size, a negative intercept, a falling line, nothing usable', (t) => {
  t.deepEqual(fitTaskTime([{ samples: 32, ms: 64 }, { samples: 32, ms: 64 }]), { fixedMs: 0, perSampleMs: 2 },
    'one size and no known slope: time proportional to samples');
  const kept = fitTaskTime([{ samples: 32, ms: 100 }, { samples: 32, ms: 100 }], 1)!;
  t.deepEqual(kept, { fixedMs: 68, perSampleMs: 1 }, 'one size and a known slope: only the fixed cost is fitted');
  const negative = fitTaskTime([{ samples: 10, ms: 1 }, { samples: 100, ms: 100 }])!;
  t.is(negative.fixedMs, 0, 'a negative fixed cost is not planned with');
  t.true(negative.perSampleMs > 0);
  const falling = fitTaskTime([{ samples: 10, ms: 100 }, { samples: 100, ms: 50 }])!;
  t.is(falling.fixedMs, 0);
  t.true(falling.perSampleMs > 0, 'a noisy falling line never yields a free per-sample cost');
  t.is(fitTaskTime([]), undefined);
  t.is(fitTaskTime([{ samples: 0, ms: 5 }, { samples: 3, ms: Number.NaN }]), undefined);
});

test('a model follows a worker that slows down 5x within one answer, and keeps its slope through same-size shards', (t) => {
  const model = new TaskTimeModel();
  t.is(model.fit, undefined);
  for (const n of [16, 48, 32, 40, 24]) model.observe(n, 100 + 2 * n);
  t.true(close(predictTaskMs(model.fit!, 32), 164, 1e-3));
  for (let i = 0; i < 20; i++) model.observe(32, 164);
  t.true(close(model.fit!.perSampleMs, 2, 1e-3), 'the slope learnt from varied sizes survives a window of equal ones');
  model.observe(32, 5 * 164);
  t.true(close(predictTaskMs(model.fit!, 32), 5 * 164, 1e-3), `after one slow answer: ${JSON.stringify(model.fit)}`);
  t.true(close(predictTaskMs(model.fit!, 8), 5 * 116, 1e-3), 'its fixed cost slowed down too: a smaller share is not underestimated');
  model.observe(0, 10);
  model.observe(5, Number.POSITIVE_INFINITY);
  t.true(close(predictTaskMs(model.fit!, 32), 5 * 164, 1e-3), 'empty or broken timings do not move it');
});
