import test from 'ava';
import { relativeError } from './helpers/tolerance.js';
import { initBackend } from '../shared/compute/backend.js';
import { silentLogger } from '../shared/common/logger.js';
import type { HeadName } from '../shared/model/heads.js';
import type { NamedTensor } from '../shared/common/named-tensor.js';
import { initialParams } from '../shared/model/initial-params.js';
import { ModelRunner, type GradientResult } from '../shared/model/model-runner.js';
import { MODEL_KINDS, modelSpec, type ModelKind } from '../shared/model/model-spec.js';
import type { Batch } from '../shared/model/batch.js';
import { realOmniglotBatch } from './helpers/fixtures.js';

/**
 * Tolerance on wasm vs cpu gradients, per tensor: max |wasm - cpu| / max |cpu|. Both are float32 with different
 * summation orders (XNNPACK blocks vs plain loops), so they agree to ~1e-6..1e-5, far below this.
 */
const TOLERANCE = 1e-4;
const WEIGHTS = new Map<HeadName, number>([['alphabet', 0.33], ['character', 0.67]]);


async function gradientsOn(backend: 'wasm' | 'cpu', kind: ModelKind, batch: Batch, params: NamedTensor[]): Promise<GradientResult> {
  const { tf } = await initBackend(backend, silentLogger());
  const runner = ModelRunner.create(kind, tf);
  try {
    runner.setParams(params);
    return runner.gradients(batch, WEIGHTS);
  } finally {
    runner.dispose();
  }
}

let batch: Promise<Batch> | undefined;
const omniglot = (): Promise<Batch> => (batch ??= realOmniglotBatch(12));

for (const kind of MODEL_KINDS) {
  test.serial(`${kind}: wasm gradients equal cpu gradients on real Omniglot images`, async (t) => {
    const data = await omniglot();
    const params = initialParams(kind, 7);
    const wasm = await gradientsOn('wasm', kind, data, params);
    const cpu = await gradientsOn('cpu', kind, data, params);
    t.deepEqual(wasm.grads.map((g) => g.name), modelSpec(kind).params.map((p) => p.name));
    for (const [i, g] of wasm.grads.entries()) {
      const reference = cpu.grads[i];
      if (reference === undefined) return t.fail(`cpu has no gradient ${g.name}`);
      t.deepEqual(g.shape, reference.shape, g.name);
      const error = relativeError(g.data, reference.data);
      t.true(error <= TOLERANCE, `${g.name}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
      t.true(reference.data.some((v) => v !== 0), `${g.name}: cpu gradient is all zeros, the check would be vacuous`);
    }
    for (const [i, head] of wasm.heads.entries()) {
      const reference = cpu.heads[i];
      t.is(reference?.head, head.head);
      t.is(head.count, data.size);
      t.true(Math.abs(head.lossSum - (reference?.lossSum ?? Number.NaN)) <= 1e-4 * Math.abs(head.lossSum), `${head.head} loss`);
    }
  });
}

test.serial('a model with all-zero params has loss ln(classes) per sample and finite gradients', async (t) => {
  const data = await omniglot();
  const { tf } = await initBackend('wasm', silentLogger());
  for (const kind of MODEL_KINDS) {
    const runner = ModelRunner.create(kind, tf);
    runner.setParams(modelSpec(kind).params.map((p) => ({ name: p.name, shape: p.shape, data: new Float32Array(p.shape.reduce((n, d) => n * d, 1)) })));
    const result = runner.gradients(data, WEIGHTS);
    runner.dispose();
    const expected: Record<HeadName, number> = { alphabet: Math.log(30), character: Math.log(964) };
    t.deepEqual(result.heads.map((h) => h.head), modelSpec(kind).heads);
    for (const head of result.heads) {
      t.true(Math.abs(head.lossSum / data.size - expected[head.head]) < 1e-5, `${kind} ${head.head}: ${head.lossSum / data.size}`);
    }
    for (const g of result.grads) t.true(g.data.every(Number.isFinite), `${kind} ${g.name} finite`);
    // Zero logits: d(sum CE)/d(bias) = N/classes - (label counts), which sums to zero over classes.
    const bias = result.grads.find((g) => g.name === 'character.bias');
    const sum = bias?.data.reduce((s, v) => s + v, 0) ?? Number.NaN;
    t.true(Math.abs(sum) < 1e-4, `${kind} character.bias gradient sums to ${sum}`);
  }
});

test.serial('gradients, evaluate and predict leave no tensors behind, on wasm and cpu', async (t) => {
  const data = await omniglot();
  for (const backend of ['wasm', 'cpu'] as const) {
    const { tf } = await initBackend(backend, silentLogger());
    for (const kind of MODEL_KINDS) {
      const runner = ModelRunner.create(kind, tf, { characterAlphabet: new Int32Array(964).map((_, i) => i % 30) });
      runner.setParams(initialParams(kind, 3));
      runner.gradients(data, WEIGHTS); // warm-up: backends allocate lazily on first use
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      runner.gradients(data, WEIGHTS);
      runner.evaluate(data);
      runner.predict(data);
      t.is(tf.memory().numTensors, tensors, `${backend} ${kind}: tensors`);
      t.is(tf.engine().backend.numDataIds(), dataIds, `${backend} ${kind}: backend buffers`);
      runner.dispose();
    }
  }
});
