import test from 'ava';
import { LossWeighting, parseLossWeights } from '../coordinator/loss-weighting.js';
import type { HeadName } from '../shared/model/heads.js';

const BASE = new Map<HeadName, number>([['alphabet', 1], ['character', 3]]);
const losses = (a: number, c: number): Map<HeadName, number> => new Map([['alphabet', a], ['character', c]]);

test('fixed applies the weights as given, whatever the losses', (t) => {
  const w = LossWeighting.create('fixed', BASE);
  w.observe(losses(5, 1), 0.1);
  t.deepEqual([...w.current()], [['alphabet', 1], ['character', 3]]);
});

test('normalized scales the weights to sum to 1', (t) => {
  const w = LossWeighting.create('normalized', BASE);
  w.observe(losses(5, 1), 0.1);
  t.deepEqual([...w.current()], [['alphabet', 0.25], ['character', 0.75]]);
});

test('scale-normalized starts at weight / chance loss and follows a running mean of each loss', (t) => {
  const w = LossWeighting.create('scale-normalized', new Map([['alphabet', 1], ['character', 1]]));
  const start = w.current();
  t.true(Math.abs(start.get('alphabet')! - 1 / Math.log(30)) < 1e-12);
  t.true(Math.abs(start.get('character')! - 1 / Math.log(964)) < 1e-12);
  // A constant loss pulls the running mean to it: 1 / L in the limit.
  for (let i = 0; i < 400; i++) w.observe(losses(0.5, 2), 0.01);
  t.true(Math.abs(w.current().get('alphabet')! - 2) < 1e-3);
  t.true(Math.abs(w.current().get('character')! - 0.5) < 1e-3);
  // One step moves the mean by 5% of the gap.
  const one = LossWeighting.create('scale-normalized', new Map([['alphabet', 1]]));
  one.observe(new Map([['alphabet', 1]]), 0.01);
  t.true(Math.abs(1 / one.current().get('alphabet')! - (0.95 * Math.log(30) + 0.05)) < 1e-12);
});

test('uncertainty starts at the base weights and its s moves toward log(L)', (t) => {
  const w = LossWeighting.create('uncertainty', new Map([['alphabet', 1], ['character', 1]]));
  t.deepEqual([...w.current()], [['alphabet', 1], ['character', 1]]);
  // One step: s <- s - lr w (1 - e^-s L): with s = 0, L = 3, lr = 0.1: s = 0.2.
  w.observe(losses(3, 0.5), 0.1);
  const s = w.state().values;
  t.true(Math.abs(s[0]! - 0.2) < 1e-12);
  t.true(Math.abs(s[1]! - -0.05) < 1e-12);
  for (let i = 0; i < 2000; i++) w.observe(losses(3, 0.5), 0.1);
  const [sa, sc] = w.state().values;
  t.true(Math.abs(sa! - Math.log(3)) < 1e-6, `s_alphabet ${sa}`);
  t.true(Math.abs(sc! - Math.log(0.5)) < 1e-6, `s_character ${sc}`);
  // The effective weight w e^-s is then 1 / L.
  t.true(Math.abs(w.current().get('alphabet')! - 1 / 3) < 1e-6);
});

test('state round-trips through restore, and non-finite losses are ignored', (t) => {
  const w = LossWeighting.create('uncertainty', BASE);
  w.observe(losses(2, Number.NaN), 0.1);
  const restored = LossWeighting.restore(w.state());
  t.deepEqual([...restored.current()], [...w.current()]);
  t.is(w.state().values[1], 0);
});

test('bad weights are refused with ERR_BAD_CONFIG', (t) => {
  t.throws(() => parseLossWeights('alphabet=-1', ['alphabet', 'character']), { code: 'ERR_BAD_CONFIG' });
  t.throws(() => parseLossWeights('alphabet=0', ['alphabet', 'character']), { code: 'ERR_BAD_CONFIG', message: /all zero/ });
  t.throws(() => parseLossWeights('digit=1', ['alphabet', 'character']), { code: 'ERR_BAD_CONFIG', message: /unknown head/ });
  t.deepEqual([...parseLossWeights('alphabet=0.33, character=0.67', ['alphabet', 'character'])], [['alphabet', 0.33], ['character', 0.67]]);
});
