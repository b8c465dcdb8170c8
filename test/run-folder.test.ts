import test from 'ava';
import type { StepInfo } from '../coordinator/coordinator.js';
import type { EpochSummary } from '../coordinator/training-state.js';
import { lineChartSvg, niceTicks } from '../scripts/cli/plot-svg.js';
import { formatProgress, ProgressLine } from '../scripts/cli/progress-line.js';
import { defaultRunDir, epochRecord, recordsBefore, stepRecord } from '../scripts/cli/run-folder.js';
import { evaluationReport } from '../scripts/cli/evaluate-report.js';
import { topK } from '../scripts/cli/predict-command.js';

const step = (stepInEpoch: number): StepInfo => ({ epoch: 0, stepInEpoch, stepsPerEpoch: 4, globalStep: stepInEpoch, samples: 32,
  heads: [{ head: 'alphabet', lossSum: 32 * 3, correct: 8, count: 32 }, { head: 'character', lossSum: 32 * 6, correct: 0, count: 32 }],
  workers: 2, stepMs: 1000, indices: new Uint32Array(32), learningRate: 0.01, lossWeights: [['alphabet', 1], ['character', 0.5]] });

test('metric records carry losses, lr, weights, per-head figures and agreement rates', (t) => {
  t.like(stepRecord(step(1)), { type: 'step', lr: 0.01, lossWeights: { alphabet: 1, character: 0.5 }, loss: { alphabet: 3, character: 6 },
    accuracy: { alphabet: 0.25, character: 0 } });
  const summary: EpochSummary = { epoch: 2, train: [{ head: 'alphabet', accuracy: 0.5, meanLoss: 1, correct: 1, count: 2 }],
    test: [{ head: 'alphabet', accuracy: 0.25, meanLoss: 2, correct: 1, count: 4 }], agreement: { agree: 3, impliedCorrect: 2, count: 4 },
    samplesPerSecond: 300, wallMs: 1000, workers: 3, learningRate: 0.005, lossWeights: [['alphabet', 0.7]] };
  t.like(epochRecord(summary, 'uncertainty'), { type: 'epoch', epoch: 2, test: { alphabet: { accuracy: 0.25, loss: 2 } },
    train: { alphabet: { accuracy: 0.5, loss: 1 } }, workers: 3, weighting: { strategy: 'uncertainty', weights: { alphabet: 0.7 } },
    agreement: { agreeRate: 0.75, impliedAlphabetAccuracy: 0.5 } });
  t.regex(defaultRunDir('two-output', new Date('2024-05-01T12:30:45.123Z')), /^runs\/2024-05-01T12-30-45Z-two-output$/);
});

test('the progress line shows step, throughput, per-head loss, ETA and workers, and clears after the last step', (t) => {
  t.is(formatProgress({ epoch: 1, epochs: 10, step: 5, steps: 10, samplesPerSecond: 312.4, losses: [['alphabet', 2.5], ['character', 6]],
    etaSeconds: 75, workers: 3 }, 200), 'epoch 2/10 [######......] 5/10  ETA 01:15  312 samples/s  3 workers  loss alphabet 2.500 character 6.000');
  const written: string[] = [];
  let now = 0;
  const line = new ProgressLine({ write: (s) => written.push(s), columns: 200 }, 1, () => now);
  for (let i = 1; i <= 4; i++) {
    now += 1000;
    line.step(step(i));
  }
  t.is(written.length, 4);
  t.true(written.slice(0, 3).every((w) => w.startsWith('\r\x1b[2K') && w.includes('workers')));
  t.regex(written[1]!, /2\/4 {2}ETA 00:02 {2}32 samples\/s {2}2 workers {2}loss alphabet 3\.000 character 6\.000$/);
  t.is(written[3], '\r\x1b[2K');
});

test('charts are SVG with a polyline per series, ticks and a legend', (t) => {
  t.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const svg = lineChartSvg({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [
    { name: 'alphabet test', color: 'blue', points: [[1, 3], [2, 2], [3, 1.5]] },
    { name: 'character <test>', color: 'red', dashed: true, points: [[1, 6], [2, Number.NaN]] }] });
  t.is(svg.match(/<polyline/g)?.length, 1);
  t.true(svg.includes('character &lt;test&gt;'));
  t.true(svg.includes('stroke-dasharray'));
});

test('the evaluation report counts per-head accuracy, per-alphabet accuracy and top confusions', (t) => {
  // 4 samples, 3 alphabets, 4 characters (character c belongs to alphabet [0,0,1,2][c]).
  const alphabetProbs = Float32Array.from([0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.8, 0.1, 0.1, 0.2, 0.2, 0.6]);
  const characterProbs = Float32Array.from([0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.7]);
  const r = evaluationReport({ probabilities: new Map([['alphabet', alphabetProbs], ['character', characterProbs]]),
    alphabet: Int32Array.of(0, 1, 1, 2), character: Int32Array.of(0, 2, 2, 3), alphabets: ['A', 'B', 'C'],
    characterAlphabet: Int32Array.of(0, 0, 1, 2) });
  t.deepEqual(r.heads.map((h) => [h.head, h.accuracy]), [['alphabet', 0.75], ['character', 0.75]]);
  t.deepEqual(r.perAlphabet.map((a) => [a.alphabet, a.accuracy]), [['A', 1], ['B', 0.5], ['C', 1]]);
  t.deepEqual(r.topConfusions, [{ truth: 'B', predicted: 'A', count: 1, share: 0.5 }]);
  t.deepEqual(topK(Float32Array.of(0.1, 0.6, 0.3), ['x', 'y', 'z'], 2).map((r) => r.name), ['y', 'z']);
});

test('a resumed run keeps the metrics recorded before its start and drops the redone and torn ones', (t) => {
  const lines = [
    { type: 'step', epoch: 0, globalStep: 1 }, { type: 'step', epoch: 0, globalStep: 2 }, { type: 'epoch', epoch: 0 },
    { type: 'step', epoch: 1, globalStep: 3 }, { type: 'step', epoch: 1, globalStep: 4 }, { type: 'epoch', epoch: 1 },
  ].map((r) => JSON.stringify(r));
  const text = `${lines.join('\n')}\n{"type":"step","glo`;
  t.is(recordsBefore(text, { globalStep: 3, epoch: 1 }), `${lines.slice(0, 4).join('\n')}\n`);
  t.is(recordsBefore(text, { globalStep: 4, epoch: 2 }), `${lines.join('\n')}\n`);
  t.is(recordsBefore(text, { globalStep: 0, epoch: 0 }), '', 'a fresh run starts an empty file');
});
