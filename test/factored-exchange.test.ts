import test from 'ava';
import { Coordinator } from '../coordinator/coordinator.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { stepId, taskId } from '../shared/protocol/ids.js';
import type { Gradients, Message } from '../shared/protocol/messages.js';
import { factoredLayers, factorSpecs } from '../shared/exchange/factored-layers.js';
import { weightsCrc32 } from '../shared/exchange/weights-crc.js';
import { modelSpec } from '../shared/model/model-spec.js';
import { RawPeer, validHello, zeroGradients } from './helpers/raw-peer.js';
import { TrainingWorker } from '../worker/training-worker.js';
import { coordinatorOptions, maxRelativeDifference, trainWith } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog, refusal } from './helpers/log-capture.js';

const t1 = { name: 'a', shape: [2], data: Float32Array.from([1, -2]) };

test('updates, factors, proofs and phase times survive the wire; bad phase times are refused', (t) => {
  const messages: Message[] = [
    { type: 'update', version: 3, samples: 32, learningRate: 0.01, momentum: 0.9, weightDecay: 0, meanGrads: [t1], factors: [t1, t1] },
    { type: 'gradients', taskId: taskId(1), stepId: stepId(2), sampleCount: 2, grads: [t1], heads: [], computeMs: 1,
      phases: { compute: 3.5, gather: 0.25 }, factors: [t1], proof: { version: 7, crc32: 0xdeadbeef } },
    { type: 'weights', version: 4, tensors: [t1], optimizerState: [t1] },
    { type: 'step', taskId: taskId(2), stepId: stepId(3), epoch: 0, weightsVersion: 3, sampleIndices: Uint32Array.from([1]),
      lossWeights: new Map(), augment: false, augmentSeed: 0, exchange: 'factored' },
  ];
  for (const m of messages) {
    const decoded = decodeMessage(encodeMessage(m));
    t.true(decoded.ok, m.type);
    if (decoded.ok) t.deepEqual(decoded.message, m, m.type);
  }
  const bad = encodeMessage({ type: 'gradients', taskId: taskId(1), stepId: stepId(2), sampleCount: 2, grads: [], heads: [], computeMs: 1,
    phases: { compute: -1 } });
  const decoded = decodeMessage(bad);
  t.false(decoded.ok);
  if (!decoded.ok) t.regex(decoded.reason, /phase 'compute' took -1 ms/);
});

test('the factored exchange reaches central SGD\'s weights (2 workers, 1 epoch, batch 32)', async (t) => {
  const data = await omniglotSubset(2);
  const central = await trainWith({ data, workers: 2, globalBatch: 32, overrides: { exchange: 'central-sgd' } });
  const factored = await trainWith({ data, workers: 2, globalBatch: 32, overrides: { exchange: 'factored' } });
  const diff = maxRelativeDifference(factored.state.params, central.state.params);
  t.log(`central-sgd vs factored: max relative weight difference ${diff.toExponential(2)}`);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
  t.deepEqual(factored.state.history[0]!.test.map((h) => h.count), central.state.history[0]!.test.map((h) => h.count));
  t.is(factored.state.history[0]!.exchange, 'factored');
  const phases = factored.state.history[0]!.phases ?? {};
  t.true((phases['worker.compute'] ?? 0) > 0 && (phases['coordinator.reduce'] ?? -1) >= 0, 'the epoch carries its step phases');
});

test('a replica whose weights are corrupted is caught by its proof, resynchronised, and the run ends on the undisturbed weights', async (t) => {
  const data = await omniglotSubset(2);
  const undisturbed = await trainWith({ data, workers: 2, globalBatch: 32, overrides: { exchange: 'factored' } });
  const log = captureLog('info');
  const options = coordinatorOptions({ data, workers: 2, globalBatch: 32, log: log.logger, overrides: { exchange: 'factored' } });
  const coordinator = await Coordinator.start(options);
  const workers = await Promise.all([0, 1].map((i) => TrainingWorker.start({ connect: coordinator.endpoint, data, backend: 'auto',
    modelKind: 'two-output', name: `replica-${i}`, log: log.logger, security: { kind: 'plain' }, microBatch: 32,
    ...(i === 1 ? { corruptReplicaAtVersion: 3 } : {}) })));
  let result;
  try {
    result = await coordinator.train();
  } finally {
    await coordinator.close();
    await Promise.all(workers.map((w) => w.finished));
  }
  const refused = log.lines.find((l) => l.code === 'ERR_BAD_GRADIENTS' && String(l.reason ?? '').includes('are not the coordinator\'s'));
  t.truthy(refused, 'the corrupted replica\'s answer was refused for its proof');
  t.truthy(log.lines.find((l) => String(l.msg).includes('sending it the full weights')), 'and the replica was sent the full weights');
  const diff = maxRelativeDifference(result.state.params, undisturbed.state.params);
  t.log(`repaired vs undisturbed: max relative weight difference ${diff.toExponential(2)}`);
  t.true(diff < 1e-4, `max relative difference ${diff}`);
});

test('factored answers with a missing or wrong proof, or bad factors, are refused and never reach the weights', async (t) => {
  const data = await omniglotSubset(2);
  const log = captureLog();
  const options = coordinatorOptions({ data, workers: 1, globalBatch: 16, log: log.logger,
    overrides: { maxWorkerFaults: 100, workerTimeoutMs: 20_000, exchange: 'factored' } });
  const coordinator = await Coordinator.start({ ...options, onStep: () => coordinator.stop('one step is enough') });
  const peer = new RawPeer(coordinator.endpoint);
  try {
    await peer.send(validHello(data));
    await peer.next('welcome');
    const weights = await peer.next('weights');
    const training = coordinator.train();
    let task = await peer.next('step');
    t.is(task.exchange, 'factored');
    const n = task.sampleIndices.length;
    const layers = factoredLayers(modelSpec('two-output'));
    const dense = zeroGradients(task.taskId, task.stepId, n).grads.filter((g) => !layers.some((l) => l.kernel === g.name));
    const factors = () => factorSpecs(layers, n).map((s) => ({ name: s.name, shape: [...s.shape], data: new Float32Array(s.shape[0]! * s.shape[1]!) }));
    const proof = { version: weights.version, crc32: weightsCrc32(weights.tensors) };
    const answer = (overrides: Partial<Gradients>): Gradients => ({ ...zeroGradients(task.taskId, task.stepId, n), grads: dense, factors: factors(), proof, ...overrides });
    const withoutProof = (): Gradients => {
      const { proof: _dropped, ...rest } = answer({});
      return rest;
    };
    const cases: [() => Gradients, string][] = [
      [withoutProof, 'carries no weights proof'],
      [() => answer({ proof: { version: 5, crc32: proof.crc32 } }), 'computed with weights version 5'],
      [() => answer({ proof: { version: proof.version, crc32: (proof.crc32 ^ 1) >>> 0 } }), 'are not the coordinator\'s'],
      [() => answer({ factors: factors().map((f, i) => (i === 0 ? { ...f, shape: [f.data.length] } : f)) }), 'image.dense.kernel:x\' has shape'],
      [() => answer({ factors: factors().map((f, i) => (i === 1 ? { ...f, data: f.data.map((v, k) => (k === 3 ? Number.NaN : v)) } : f)) }),
        'non-finite value (NaN) at 3'],
    ];
    for (const [make, reason] of cases) {
      await peer.send(make());
      await log.waitFor(refusal('ERR_BAD_GRADIENTS', reason));
      task = await peer.next('step');
    }
    t.true(log.lines.filter((l) => String(l.msg).includes('sending it the full weights')).length >= 3, 'each proof failure resyncs the worker');
    await peer.send(answer({}));
    const result = await training;
    t.is(result.state.globalStep, 1, 'the step completed');
    t.is(maxRelativeDifference(result.state.params, options.initialParams), 0, 'no refused value reached the weights');
  } finally {
    peer.close();
    await coordinator.close();
  }
});
