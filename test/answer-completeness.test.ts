import test from 'ava';
import { evalResultProblem, headsProblem } from '../coordinator/answer-check.js';
import { Coordinator } from '../coordinator/coordinator.js';
import type { HeadStat } from '../shared/model/heads.js';
import { modelSpec, type ModelKind } from '../shared/model/model-spec.js';
import type { EvalRequest } from '../shared/protocol/messages.js';
import { coordinatorOptions } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, refusal, type CapturedLog } from './helpers/log-capture.js';
import { RawPeer, validHello, zeroGradients } from './helpers/raw-peer.js';

// An answer must carry every field the model's evaluation or step needs. A missing one is refused with a code and
// the piece is handed out again: it is never summed as if it were zero, nor left out of a rate (issue 14: an
// EvalResult without `agreement` made the epoch's agreement rate that of the workers that sent theirs).

const stat = (head: HeadStat['head'], count: number): HeadStat => ({ head, lossSum: count, correct: 0, count });
const both = (n: number) => [stat('alphabet', n), stat('character', n)];

test('answer checks: a missing head or agreement is named; a complete answer passes', (t) => {
  const twoOutput = modelSpec('two-output');
  const twoInput = modelSpec('two-input');
  t.is(headsProblem(both(4), twoOutput.heads, 4), undefined);
  t.is(headsProblem([stat('alphabet', 4)], twoOutput.heads, 4), "head stats for 'character' missing (the model has alphabet, character)");
  t.is(headsProblem([], twoInput.heads, 4), "head stats for 'character' missing (the model has character)");
  t.is(headsProblem(both(4), twoInput.heads, 4), '2 head stats, the model has 1');
  const agreement = { agree: 3, impliedCorrect: 2, count: 4 };
  t.is(evalResultProblem({ heads: both(4), agreement, sampleCount: 4 }, twoOutput), undefined);
  t.is(evalResultProblem({ heads: both(4), sampleCount: 4 }, twoOutput), "agreement missing: model 'two-output' reports it with every evaluation");
  t.is(evalResultProblem({ heads: both(4), agreement: { ...agreement, count: 3 }, sampleCount: 4 }, twoOutput),
    'agreement counts 3/2 of 3 for 4 samples');
  t.is(evalResultProblem({ heads: both(4), agreement: { ...agreement, agree: 5 }, sampleCount: 4 }, twoOutput),
    'agreement counts 5/2 of 4 for 4 samples');
  t.is(evalResultProblem({ heads: [stat('character', 4)], sampleCount: 4 }, twoInput), undefined);
  t.is(evalResultProblem({ heads: [stat('character', 4)], agreement, sampleCount: 4 }, twoInput), "agreement given, but model 'two-input' has none");
  t.regex(evalResultProblem({ heads: [stat('character', 4)], agreement, sampleCount: 4 }, twoOutput) ?? '', /'alphabet' missing/);
});

/** A coordinator of `modelKind` whose only worker is a raw peer that has joined; `body` drives the peer. */
async function withRawWorker(modelKind: ModelKind, body: (c: Coordinator, peer: RawPeer, log: CapturedLog) => Promise<void>,
  onStep?: (c: Coordinator) => void): Promise<void> {
  const data = await omniglotSubset(1);
  const log = captureLog('info');
  // The raw peer answers with dense gradient sums: the central-sgd exchange's answer format.
  const options = coordinatorOptions({ data, workers: 1, modelKind, globalBatch: 16, log: log.logger,
    overrides: { maxWorkerFaults: 100, workerTimeoutMs: 20_000, exchange: 'central-sgd' } });
  const coordinator: Coordinator = await Coordinator.start({ ...options, ...(onStep ? { onStep: () => onStep(coordinator) } : {}) });
  const peer = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(validHello(data, modelKind));
    await peer.next('welcome');
    await body(coordinator, peer, log);
  } finally {
    peer.close();
    await coordinator.close();
  }
}

test('an evaluation answer without agreement or without a head is refused and the piece asked for again', async (t) => {
  const data = await omniglotSubset(1);
  await withRawWorker('two-output', async (coordinator, peer, log) => {
    const evaluation = coordinator.evaluate('test');
    let request: EvalRequest = await peer.next('eval-request');
    const n = request.sampleIndices.length;
    t.is(n, data.test.size, 'the only worker gets the whole split');

    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: both(n) });
    await log.waitFor(refusal('ERR_BAD_MESSAGE', "agreement missing: model 'two-output'"));
    request = await peer.next('eval-request');
    t.is(request.sampleIndices.length, n, 'asked again for the same samples');

    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: [stat('alphabet', n)],
      agreement: { agree: 1, impliedCorrect: 1, count: n } });
    await log.waitFor(refusal('ERR_BAD_MESSAGE', "head stats for 'character' missing"));
    request = await peer.next('eval-request');

    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: both(n),
      agreement: { agree: 1, impliedCorrect: 1, count: n - 1 } });
    await log.waitFor(refusal('ERR_BAD_MESSAGE', `agreement counts 1/1 of ${n - 1} for ${n} samples`));
    request = await peer.next('eval-request');

    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: both(n),
      agreement: { agree: 2, impliedCorrect: 1, count: n } });
    const result = await evaluation;
    t.deepEqual(result.agreement, { agree: 2, impliedCorrect: 1, count: n }, 'only the complete answer counted');
    t.deepEqual(result.heads.map((h) => h.count), [n, n]);
  });
});

test('gradients whose head stats miss a head are refused and the shard asked for again', async (t) => {
  await withRawWorker('two-output', async (coordinator, peer, log) => {
    const training = coordinator.train();
    const step = await peer.next('step');
    const partial = zeroGradients(step.taskId, step.stepId, step.sampleIndices.length);
    await peer.send({ ...partial, heads: partial.heads.filter((h) => h.head !== 'alphabet') });
    await log.waitFor(refusal('ERR_BAD_GRADIENTS', "head stats for 'alphabet' missing"));
    const again = await peer.next('step');
    t.deepEqual([...again.sampleIndices], [...step.sampleIndices], 'the same shard, asked for again');
    await peer.send(zeroGradients(again.taskId, again.stepId, again.sampleIndices.length));
    const result = await training;
    t.is(result.state.globalStep, 1, 'the complete answer completed the step');
  }, (c) => c.stop('one step is enough'));
});

test('a two-input evaluation answer with agreement counts it has no model for is refused', async (t) => {
  await withRawWorker('two-input', async (coordinator, peer, log) => {
    const evaluation = coordinator.evaluate('test');
    let request = await peer.next('eval-request');
    const n = request.sampleIndices.length;
    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: [stat('character', n)],
      agreement: { agree: 0, impliedCorrect: 0, count: n } });
    await log.waitFor(refusal('ERR_BAD_MESSAGE', "agreement given, but model 'two-input' has none"));
    request = await peer.next('eval-request');
    await peer.send({ type: 'eval-result', taskId: request.taskId, sampleCount: n, heads: [stat('character', n)] });
    const result = await evaluation;
    t.is(result.agreement, undefined);
    t.is(result.heads[0]!.count, n);
  });
});
