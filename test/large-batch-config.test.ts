import test from 'ava';
import type { EpochSummary } from '../coordinator/training-state.js';
import { globalBatchFrom, parseLrScaling, parseTargets } from '../scripts/cli/parse-run-config.js';
import { timeToAccuracy } from '../scripts/cli/time-to-accuracy.js';

const epoch = (wallMs: number, alphabet: number, character: number): Pick<EpochSummary, 'test' | 'wallMs'> => ({ wallMs,
  test: [{ head: 'alphabet', accuracy: alphabet, meanLoss: 1, correct: 0, count: 1 },
    { head: 'character', accuracy: character, meanLoss: 1, correct: 0, count: 1 }] });

test('time-to-accuracy is the wall time summed up to the first epoch that reaches each target', (t) => {
  const history = [epoch(10_000, 0.1, 0.05), epoch(12_000, 0.3, 0.2), epoch(11_000, 0.2, 0.3), epoch(9_000, 0.4, 0.4)];
  const got = timeToAccuracy(history, new Map([['alphabet', 0.25], ['character', 0.28]]));
  t.deepEqual(got.alphabet, { target: 0.25, epoch: 2, seconds: 22, accuracy: 0.3 });
  t.deepEqual(got.character, { target: 0.28, epoch: 3, seconds: 33, accuracy: 0.3 });
  // Reaching the target exactly counts; a target never reached is null, not the last epoch.
  t.is(timeToAccuracy(history, new Map([['alphabet', 0.4]])).alphabet?.seconds, 42);
  t.deepEqual(timeToAccuracy(history, new Map([['character', 0.9]])).character, { target: 0.9, epoch: null, seconds: null, accuracy: null });
  t.deepEqual(timeToAccuracy([], new Map([['alphabet', 0.1]])).alphabet?.epoch, null);
});

test('--target: head=accuracy pairs in (0, 1]; heads the model lacks are skipped; mistakes are named', (t) => {
  t.deepEqual([...parseTargets('two-output', 'alphabet=0.25, character=0.28')], [['alphabet', 0.25], ['character', 0.28]]);
  t.deepEqual([...parseTargets('two-input', 'alphabet=0.25,character=0.28')], [['character', 0.28]]);
  for (const [text, message] of [['alphabet=1.5', /alphabet=1\.5 is not an accuracy in \(0, 1\]/], ['alphabet=0', /not an accuracy/],
    ['alphabet=NaN', /not an accuracy/], ['font=0.5', /unknown head 'font'/], ['alphabet', /'alphabet' is not head=accuracy/],
    ['alphabet=0.2,alphabet=0.3', /alphabet is given twice/]] as const) {
    t.throws(() => parseTargets('two-output', text), { message, instanceOf: Error }, text);
  }
});

test('--lr-scaling, --base-batch, --warmup-epochs and --batch-per-worker', (t) => {
  const v = { 'lr-scaling': 'linear', 'base-batch': 32, 'warmup-epochs': 2, epochs: 10 };
  t.deepEqual(parseLrScaling(v), { kind: 'linear', baseBatch: 32, warmupEpochs: 2 });
  t.deepEqual(parseLrScaling({ ...v, 'lr-scaling': 'none', 'warmup-epochs': 0 }), { kind: 'none' });
  t.throws(() => parseLrScaling({ ...v, 'lr-scaling': 'none' }), { message: /--warmup-epochs: 2 needs --lr-scaling linear/ });
  t.throws(() => parseLrScaling({ ...v, 'warmup-epochs': 11 }), { message: /--warmup-epochs: 11 is more than the 10 --epochs/ });
  t.is(globalBatchFrom({ 'batch-size': 32, 'batch-per-worker': undefined }, 4), 32);
  t.is(globalBatchFrom({ 'batch-size': 32, 'batch-per-worker': 64 }, 4), 256);
});
