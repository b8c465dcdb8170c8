import test from 'ava';
import { initBackend } from '../shared/compute/backend.js';
import { silentLogger } from '../shared/common/logger.js';
import { elementCount } from '../shared/common/named-tensor.js';
import { initialParams } from '../shared/model/initial-params.js';
import { ModelRunner } from '../shared/model/model-runner.js';
import { MODEL_KINDS, isModelKind, modelSpec } from '../shared/model/model-spec.js';
import { IMAGE_SIZE, type Batch } from '../shared/model/batch.js';

function tinyBatch(size: number): Batch {
  return {
    size,
    images: Float32Array.from({ length: size * IMAGE_SIZE * IMAGE_SIZE }, (_, i) => (i % 7 === 0 ? 1 : 0)),
    alphabet: Int32Array.from({ length: size }, (_, i) => i % 30),
    character: Int32Array.from({ length: size }, (_, i) => (i * 31) % 964),
  };
}

test('modelSpec lists the course layers in a fixed order', (t) => {
  t.deepEqual(
    modelSpec('two-output').params.map((p) => `${p.name}[${p.shape.join(',')}]`),
    [
      'image.conv.kernel[3,3,1,16]', 'image.conv.bias[16]', 'image.dense.kernel[16384,128]', 'image.dense.bias[128]',
      'alphabet.kernel[128,30]', 'alphabet.bias[30]', 'character.kernel[128,964]', 'character.bias[964]',
    ],
  );
  t.deepEqual(modelSpec('two-input').heads, ['character']);
  t.deepEqual(modelSpec('two-input').params.find((p) => p.name === 'character.kernel')?.shape, [136, 964]);
  // The PyTorch anchor's count for the two-output model.
  t.is(modelSpec('two-output').params.reduce((n, p) => n + elementCount(p.shape), 0), 2_225_666);
  t.true(isModelKind('two-input'));
  t.false(isModelKind('three-output'));
});

test('initialParams is deterministic per seed, shaped as modelSpec, and within the PyTorch bound', (t) => {
  for (const kind of MODEL_KINDS) {
    const a = initialParams(kind, 42);
    const b = initialParams(kind, 42);
    const c = initialParams(kind, 43);
    t.deepEqual(a.map((p) => [p.name, p.shape]), modelSpec(kind).params.map((p) => [p.name, p.shape]));
    t.deepEqual(a, b);
    for (const [i, p] of a.entries()) {
      t.is(p.data.length, elementCount(p.shape));
      t.notDeepEqual(p.data, c[i]?.data, `${kind} ${p.name} differs with the seed`);
    }
  }
  const dense = initialParams('two-output', 1).find((p) => p.name === 'image.dense.kernel');
  const bound = 1 / Math.sqrt(16384);
  const max = dense?.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0) ?? 0;
  t.true(max <= bound && max > 0.99 * bound, `max |w| ${max} vs bound ${bound}`);
});

test.serial('setParams names the offending param', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  const runner = ModelRunner.create('two-output', tf);
  const params = initialParams('two-output', 1);
  t.throws(() => runner.setParams(params.slice(1)), { message: /image\.conv\.kernel missing/ });
  t.throws(() => runner.setParams(params.map((p) => (p.name === 'alphabet.bias' ? { ...p, shape: [31] } : p))), {
    message: /alphabet\.bias has shape \[31\], expected \[30\]/,
  });
  t.throws(() => runner.setParams([...params, { name: 'extra', shape: [1], data: new Float32Array(1) }]), { message: /extra not in model/ });
  t.throws(() => runner.gradients(tinyBatch(2), new Map()), { message: /setParams was never called/ });
  runner.dispose();
});

test.serial('zero-size batch gives zero gradients and empty stats; bad labels throw', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  const runner = ModelRunner.create('two-output', tf);
  runner.setParams(initialParams('two-output', 1));
  const result = runner.gradients(tinyBatch(0), new Map([['character', 1]]));
  t.deepEqual(result.grads.map((g) => g.name), modelSpec('two-output').params.map((p) => p.name));
  t.true(result.grads.every((g) => g.data.length === elementCount(g.shape) && g.data.every((v) => v === 0)));
  t.deepEqual(result.heads, [
    { head: 'alphabet', lossSum: 0, correct: 0, count: 0 },
    { head: 'character', lossSum: 0, correct: 0, count: 0 },
  ]);
  const bad = { ...tinyBatch(2), character: Int32Array.from([0, 964]) };
  t.throws(() => runner.gradients(bad, new Map()), { message: /character label 964 at 1 is outside \[0, 964\)/ });
  runner.dispose();
});

test.serial('heads missing from the weights contribute no gradient', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  const runner = ModelRunner.create('two-output', tf);
  runner.setParams(initialParams('two-output', 1));
  const result = runner.gradients(tinyBatch(4), new Map([['character', 1]]));
  const grad = (name: string): Float32Array => result.grads.find((g) => g.name === name)?.data ?? new Float32Array(1).fill(Number.NaN);
  t.true(grad('alphabet.kernel').every((v) => v === 0));
  t.true(grad('character.kernel').some((v) => v !== 0));
  t.true(result.heads.every((h) => h.count === 4 && h.lossSum > 0), 'stats still cover the unweighted head');
  runner.dispose();
});

test.serial('evaluate counts agreement; predict gives softmax rows', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  const characterAlphabet = Int32Array.from({ length: 964 }, (_, i) => i % 30);
  const runner = ModelRunner.create('two-output', tf, { characterAlphabet });
  runner.setParams(initialParams('two-output', 5));
  const batch = tinyBatch(6);
  const evaluation = runner.evaluate(batch);
  t.is(evaluation.agreement?.count, 6);
  const probabilities = runner.predict(batch).probabilities;
  const alphabet = probabilities.get('alphabet');
  const character = probabilities.get('character');
  t.is(alphabet?.length, 6 * 30);
  t.is(character?.length, 6 * 964);
  // Recompute agreement from the predictions: arg-max of each row.
  const argmax = (p: Float32Array, classes: number, row: number): number => {
    let best = 0;
    for (let k = 1; k < classes; k++) if ((p[row * classes + k] ?? 0) > (p[row * classes + best] ?? 0)) best = k;
    return best;
  };
  let agree = 0;
  let impliedCorrect = 0;
  for (let i = 0; i < 6; i++) {
    const implied = characterAlphabet[argmax(character ?? new Float32Array(), 964, i)];
    if (implied === argmax(alphabet ?? new Float32Array(), 30, i)) agree++;
    if (implied === batch.alphabet[i]) impliedCorrect++;
    const rowSum = (character ?? new Float32Array()).subarray(i * 964, (i + 1) * 964).reduce((s, v) => s + v, 0);
    t.true(Math.abs(rowSum - 1) < 1e-4);
  }
  t.deepEqual(evaluation.agreement, { agree, impliedCorrect, count: 6 });
  const twoInput = ModelRunner.create('two-input', tf, { characterAlphabet });
  twoInput.setParams(initialParams('two-input', 5));
  t.is(twoInput.evaluate(batch).agreement, undefined);
  t.deepEqual([...twoInput.predict(batch).probabilities.keys()], ['character']);
  runner.dispose();
  twoInput.dispose();
});
