import test from 'ava';
import { mulberry32 } from '../shared/common/seeded-random.js';
import { FactorProduct } from '../shared/exchange/factor-product.js';
import { concatRows, reduceFactoredShards } from '../shared/exchange/factor-reduction.js';
import { denseParams, factoredLayers, factorSpecs, type FactoredLayer } from '../shared/exchange/factored-layers.js';
import { applyStepUpdate } from '../shared/exchange/step-update.js';
import { weightsCrc32 } from '../shared/exchange/weights-crc.js';
import { sumAndSgdStep } from '../coordinator/step-exchange/sum-and-sgd.js';
import { chooseExchange } from '../coordinator/step-exchange/exchange-choice.js';
import { modelSpec } from '../shared/model/model-spec.js';
import { maxRelativeDifference } from './helpers/tolerance.js';

const random = (n: number, seed: number): Float32Array => {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
};
const layer: FactoredLayer = { kernel: 'd.kernel', param: 'd', in: 6, out: 8, x: 'd.kernel:x', dy: 'd.kernel:dy' };
const tensor = (name: string, shape: number[], data: Float32Array) => ({ name, shape, data });

/** x^T dy summed in float64, for comparison. */
function naiveProduct(x: Float32Array, dy: Float32Array, samples: number, inDim: number, outDim: number): Float64Array {
  const out = new Float64Array(inDim * outDim);
  for (let b = 0; b < samples; b++) for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) out[i * outDim + j]! += x[b * inDim + i]! * dy[b * outDim + j]!;
  return out;
}

test('the factor product is the dense layer\'s gradient sum x^T dy', (t) => {
  const product = new FactorProduct();
  for (const samples of [1, 3, 17]) {
    const x = random(samples * layer.in, samples);
    const dy = random(samples * layer.out, 100 + samples);
    const got = product.product(x, dy, { samples, in: layer.in, out: layer.out });
    const want = naiveProduct(x, dy, samples, layer.in, layer.out);
    t.true(got.every((v, k) => Math.abs(v - want[k]!) < 1e-5), `samples ${samples}`);
  }
  t.throws(() => product.product(new Float32Array(5), new Float32Array(8), { samples: 1, in: 6, out: 8 }), { instanceOf: RangeError });
});

test('the factor product grows its memory and gives the same bits on a second instance', (t) => {
  const big = { samples: 64, in: 16384, out: 128 };
  const x = random(big.samples * big.in, 1);
  const dy = random(big.samples * big.out, 2);
  const a = new FactorProduct().product(x, dy, big).slice();
  const b = new FactorProduct().product(x, dy, big);
  t.is(a.length, big.in * big.out);
  t.deepEqual(new Uint32Array(a.buffer), new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)));
});

test('factor reduction concatenates shards in batch order and averages dense sums like central SGD', (t) => {
  const dense = [{ name: 'b', shape: [3] }];
  const shard = (rows: number, seed: number) => ({ grads: [tensor('b', [3], random(3, seed))],
    factors: [tensor(layer.x, [rows, layer.in], random(rows * layer.in, seed + 1)), tensor(layer.dy, [rows, layer.out], random(rows * layer.out, seed + 2))] });
  const shards = [shard(2, 10), shard(3, 20)];
  const reduced = reduceFactoredShards(shards, dense, [layer], 5);
  t.deepEqual(reduced.factors[0]!.shape, [5, layer.in]);
  t.deepEqual([...reduced.factors[0]!.data.subarray(0, 2 * layer.in)], [...shards[0]!.factors[0]!.data]);
  t.deepEqual([...reduced.factors[1]!.data.subarray(2 * layer.out)], [...shards[1]!.factors[1]!.data]);
  const sums = shards.map((s) => s.grads[0]!.data);
  t.deepEqual([...reduced.meanGrads[0]!.data], [0, 1, 2].map((k) => Math.fround((sums[0]![k]! + sums[1]![k]!) / 5)));
  t.deepEqual(concatRows('z', [tensor('a', [1, 2], Float32Array.from([1, 2])), tensor('b', [2, 2], Float32Array.from([3, 4, 5, 6]))], 2).data,
    Float32Array.from([1, 2, 3, 4, 5, 6]));
  t.throws(() => reduceFactoredShards([], dense, [layer], 5), { instanceOf: RangeError });
});

test('a factored step equals central SGD on the dense gradients, and any split of the batch gives the same bits', (t) => {
  const samples = 12;
  const params = [tensor('d.kernel', [layer.in, layer.out], random(layer.in * layer.out, 5)), tensor('d.bias', [layer.out], random(layer.out, 6))];
  const x = random(samples * layer.in, 7);
  const dy = random(samples * layer.out, 8);
  const dense = Float32Array.from(naiveProduct(x, dy, samples, layer.in, layer.out));
  const biasSum = random(layer.out, 9);
  const sgd = { learningRate: 0.1, momentum: 0.9, weightDecay: 0.01 };
  const central = sumAndSgdStep(params, [[tensor('d.kernel', [layer.in, layer.out], dense), tensor('d.bias', [layer.out], biasSum)]], samples, [], sgd);
  const split = (cuts: number[]) => {
    let at = 0;
    const shards = cuts.map((rows, i) => {
      const s = { grads: [tensor('d.bias', [layer.out], i === 0 ? biasSum : new Float32Array(layer.out))],
        factors: [tensor(layer.x, [rows, layer.in], x.slice(at * layer.in, (at + rows) * layer.in)),
          tensor(layer.dy, [rows, layer.out], dy.slice(at * layer.out, (at + rows) * layer.out))] };
      at += rows;
      return s;
    });
    const reduced = reduceFactoredShards(shards, [{ name: 'd.bias', shape: [layer.out] }], [layer], samples);
    return applyStepUpdate(params, [], { ...reduced, samples, sgd }, [layer], new FactorProduct());
  };
  const one = split([12]);
  const three = split([5, 1, 6]);
  t.true(maxRelativeDifference(one.params, central.params) < 1e-6, 'same step as central SGD, to rounding');
  t.true(maxRelativeDifference(one.state.map((data) => ({ data })), central.state.map((data) => ({ data }))) < 1e-5, 'same velocity');
  t.is(weightsCrc32(three.params), weightsCrc32(one.params), 'bit-identical whatever the split');
  t.throws(() => applyStepUpdate(params, [], { meanGrads: [], factors: [], samples, sgd }, [layer], new FactorProduct()), { message: /factors of 'd.kernel'/ });
});

test('the weights checksum sees a single flipped bit', (t) => {
  const a = [tensor('w', [4], Float32Array.from([1, 2, 3, 4])), tensor('v', [1], Float32Array.from([5]))];
  const b = a.map((x) => ({ ...x, data: x.data.slice() }));
  t.is(weightsCrc32(b), weightsCrc32(a));
  new Uint32Array(b[1]!.data.buffer)[0]! ^= 1;
  t.not(weightsCrc32(b), weightsCrc32(a));
});

test('the course models factor their image dense layer, and auto factors only where it saves bytes', (t) => {
  const spec = modelSpec('two-output');
  const layers = factoredLayers(spec);
  t.deepEqual(layers.map((l) => [l.kernel, l.in, l.out]), [['image.dense.kernel', 16384, 128]]);
  t.false(denseParams(spec.params, layers).some((p) => p.name === 'image.dense.kernel'));
  t.deepEqual(factorSpecs(layers, 3).map((s) => s.shape), [[3, 16384], [3, 128]]);
  t.is(chooseExchange('auto', spec, 32), 'factored');
  t.is(chooseExchange('auto', spec, 128), 'central-sgd');
  t.is(chooseExchange('central-sgd', spec, 32), 'central-sgd');
  t.is(chooseExchange('auto', spec, 32, 0.9), 'central-sgd', 'momentum: central SGD');
  t.throws(() => chooseExchange('factored', spec, 32, 0.9), { message: /needs --momentum 0/ });
});
