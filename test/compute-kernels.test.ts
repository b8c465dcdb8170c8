import test from 'ava';
import { relativeError } from './helpers/tolerance.js';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { initBackend } from '../shared/compute/backend.js';
import type { TfModule } from '../shared/compute/tf-module.js';
import { silentLogger } from '../shared/common/logger.js';
import { mulberry32 } from '../shared/common/seeded-random.js';

/** Max |wasm - cpu| / max |cpu| over the tensor; float32 with different summation orders stays far below. */
const TOLERANCE = 1e-4;

function randomData(size: number, seed: number, levels = 0): Float32Array {
  const next = mulberry32(seed);
  // levels > 0 quantises values, so max-pool windows hold ties as on blank image background.
  return Float32Array.from({ length: size }, () => (levels > 0 ? Math.floor(next() * levels) / levels : 2 * next() - 1));
}


/** Runs `op` on wasm and on cpu from the same inputs; returns both outputs and the wasm buffers left behind. */
async function onBoth(
  shapes: readonly (readonly number[])[],
  op: (tf: TfModule, inputs: Tensor[]) => Tensor,
  levels = 0,
): Promise<{ wasm: Float32Array; cpu: Float32Array; wasmShape: number[]; cpuShape: number[]; leaked: number }> {
  const data = shapes.map((s, i) => randomData(s.reduce((n, d) => n * d, 1), 101 + i, levels));
  const run = async (backend: 'wasm' | 'cpu'): Promise<{ values: Float32Array; shape: number[]; leaked: number }> => {
    const { tf } = await initBackend(backend, silentLogger());
    const inputs = shapes.map((s, i) => tf.tensor(data[i] ?? [], [...s]));
    const dataIds = tf.engine().backend.numDataIds();
    const out = op(tf, inputs);
    const values = Float32Array.from(out.dataSync<'float32'>());
    const shape = out.shape;
    out.dispose();
    const leaked = tf.engine().backend.numDataIds() - dataIds;
    tf.dispose(inputs);
    return { values, shape, leaked };
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  return { wasm: wasm.values, cpu: cpu.values, wasmShape: wasm.shape, cpuShape: cpu.shape, leaked: wasm.leaked };
}

const matMulCases: readonly { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { a: [7, 5], b: [5, 3], ta: false, tb: false },
  { a: [5, 7], b: [5, 3], ta: true, tb: false },
  { a: [7, 5], b: [3, 5], ta: false, tb: true },
  { a: [5, 7], b: [3, 5], ta: true, tb: true },
  // The model's shapes: dense weight gradient (x^T dy) and input gradient (dy W^T), both ways round.
  { a: [32, 2048], b: [32, 128], ta: true, tb: false },
  { a: [32, 128], b: [2048, 128], ta: false, tb: true },
  { a: [2048, 32], b: [128, 2048], ta: true, tb: true },
  // Batched and broadcast batch dims.
  { a: [4, 6, 9], b: [4, 10, 9], ta: false, tb: true },
  { a: [4, 9, 6], b: [1, 9, 10], ta: true, tb: false },
  { a: [2, 3, 9, 6], b: [2, 3, 10, 9], ta: true, tb: true },
  // The SIMD gemm: k past one 256 block, a row remainder, 8- and 4-wide column tiles.
  { a: [9, 300], b: [300, 20], ta: false, tb: false },
  // Transposed A large enough to be transposed first; swapped form (C^T then a transpose); rank 3 without batch.
  { a: [32, 4100], b: [32, 12], ta: true, tb: false },
  { a: [12, 40], b: [4100, 40], ta: false, tb: true },
  { a: [1, 8, 12], b: [1, 12, 8], ta: false, tb: false },
  { a: [1, 12, 8], b: [1, 20, 12], ta: true, tb: true },
];

for (const c of matMulCases) {
  test.serial(`BatchMatMul a[${c.a}] b[${c.b}] transposeA=${c.ta} transposeB=${c.tb}: wasm equals cpu`, async (t) => {
    const r = await onBoth([c.a, c.b], (tf, [a, b]) => tf.matMul(a as Tensor, b as Tensor, c.ta, c.tb));
    t.deepEqual(r.wasmShape, r.cpuShape);
    t.true(relativeError(r.wasm, r.cpu) <= TOLERANCE, `relative error ${relativeError(r.wasm, r.cpu)}`);
    t.is(r.leaked, 0);
  });
}

const convCases: readonly { x: number[]; filter: number[]; pad: 'same' | 'valid' | number }[] = [
  { x: [4, 64, 64, 1], filter: [3, 3, 1, 16], pad: 'same' }, // the model's conv
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 5], pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 2, 3, 4], pad: 'valid' },
  { x: [3, 8, 8, 2], filter: [5, 5, 2, 6], pad: 'same' },
  { x: [1, 6, 5, 4], filter: [2, 4, 4, 3], pad: 'same' }, // even filter: asymmetric padding
  { x: [2, 5, 5, 2], filter: [3, 3, 2, 2], pad: 1 },
  { x: [2, 5, 6, 3], filter: [1, 1, 3, 7], pad: 'valid' },
  // Output channels a multiple of 4: the SIMD im2col + gemm, with several input channels and uneven padding.
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 8], pad: 'same' },
  { x: [1, 6, 5, 4], filter: [2, 4, 4, 4], pad: 'same' },
  { x: [2, 5, 5, 2], filter: [3, 3, 2, 12], pad: 1 },
];

for (const c of convCases) {
  test.serial(`Conv2D x[${c.x}] filter[${c.filter}] pad ${c.pad}: wasm equals cpu`, async (t) => {
    const r = await onBoth([c.x, c.filter], (tf, [x, f]) => tf.conv2d(x as Tensor4D, f as Tensor4D, 1, c.pad));
    t.deepEqual(r.wasmShape, r.cpuShape);
    t.true(relativeError(r.wasm, r.cpu) <= TOLERANCE, `relative error ${relativeError(r.wasm, r.cpu)}`);
    t.is(r.leaked, 0);
  });
}

for (const c of convCases) {
  test.serial(`Conv2DBackpropFilter x[${c.x}] filter[${c.filter}] pad ${c.pad}: wasm equals cpu`, async (t) => {
    const outShape = (tf: TfModule, x: Tensor, f: Tensor): number[] => tf.conv2d(x as Tensor4D, f as Tensor4D, 1, c.pad).shape;
    const r = await onBoth([c.x, c.filter], (tf, [x, f]) => {
      const dyShape = tf.tidy(() => outShape(tf, x as Tensor, f as Tensor));
      const dy = tf.tensor(randomData(dyShape.reduce((n, d) => n * d, 1), 9), dyShape);
      const grad = tf.grad((filter: Tensor) => tf.conv2d(x as Tensor4D, filter as Tensor4D, 1, c.pad))(f as Tensor, dy);
      dy.dispose();
      return grad;
    });
    t.deepEqual(r.wasmShape, c.filter);
    t.true(relativeError(r.wasm, r.cpu) <= TOLERANCE, `relative error ${relativeError(r.wasm, r.cpu)}`);
    t.is(r.leaked, 0);
  });
}

test.serial('Conv2DBackpropFilter on wasm rejects stride 2 with a clear error', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  const x = tf.ones([1, 8, 8, 1]) as Tensor4D;
  const f = tf.ones([3, 3, 1, 2]);
  const grad = (): Tensor => tf.grad((filter: Tensor) => tf.conv2d(x, filter as Tensor4D, 2, 'same'))(f);
  t.throws(grad, { message: /Conv2DBackpropFilter on wasm \(im2col\): only stride 1 is supported/ });
  tf.dispose([x, f]);
});

const poolCases: readonly { x: number[]; size: number; stride: number; pad: 'same' | 'valid'; levels: number }[] = [
  { x: [2, 8, 8, 16], size: 2, stride: 2, pad: 'valid', levels: 0 },
  { x: [2, 8, 8, 16], size: 2, stride: 2, pad: 'valid', levels: 3 }, // many ties: first maximum wins
  { x: [2, 9, 7, 3], size: 2, stride: 2, pad: 'valid', levels: 3 }, // odd sizes: uncovered rows get zero
  { x: [2, 9, 9, 3], size: 3, stride: 2, pad: 'same', levels: 4 }, // overlapping windows accumulate
  { x: [1, 6, 6, 2], size: 2, stride: 1, pad: 'valid', levels: 2 },
  { x: [3, 6, 10, 8], size: 2, stride: 2, pad: 'valid', levels: 1 }, // all equal: every window a 4-way tie
];

for (const c of poolCases) {
  test.serial(`MaxPoolGrad x[${c.x}] size ${c.size} stride ${c.stride} ${c.pad} levels ${c.levels}: wasm equals cpu`, async (t) => {
    const r = await onBoth(
      [c.x],
      (tf, [x]) => {
        const y = tf.maxPool(x as Tensor4D, c.size, c.stride, c.pad);
        const dy = tf.tensor(randomData(y.size, 5), y.shape);
        const grad = tf.grad((input: Tensor) => tf.maxPool(input as Tensor4D, c.size, c.stride, c.pad))(x as Tensor, dy);
        tf.dispose([y, dy]);
        return grad;
      },
      c.levels,
    );
    t.deepEqual(r.wasmShape, c.x);
    t.true(relativeError(r.wasm, r.cpu) <= TOLERANCE, `relative error ${relativeError(r.wasm, r.cpu)}`);
    t.is(r.leaked, 0);
  });
}

test.serial('MaxPoolGrad routes around NaN and -Infinity as cpu does (SIMD 2x2 path)', async (t) => {
  // Channels 0-3 of each window: NaN first, a tie after -Infinity, all -Infinity, all NaN.
  const windows = [
    [Number.NaN, 1, 2, 2],
    [Number.NEGATIVE_INFINITY, 0, 0, -1],
    [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
    [Number.NaN, Number.NaN, Number.NaN, Number.NaN],
  ];
  const values = new Float32Array(2 * 2 * 4);
  windows.forEach((w, c) => w.forEach((v, p) => { values[p * 4 + c] = v; }));
  const run = async (backend: 'wasm' | 'cpu'): Promise<Float32Array> => {
    const { tf } = await initBackend(backend, silentLogger());
    const x = tf.tensor4d(values, [1, 2, 2, 4]);
    const dy = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]);
    const grad = tf.grad((input: Tensor) => tf.maxPool(input as Tensor4D, 2, 2, 'valid'))(x, dy);
    const out = Float32Array.from(grad.dataSync<'float32'>());
    tf.dispose([x, dy, grad]);
    return out;
  };
  const wasm = await run('wasm');
  t.deepEqual([...wasm], [...(await run('cpu'))]);
  t.deepEqual([...wasm], [0, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
});

const addCases: readonly { a: number[]; b: number[] }[] = [
  { a: [4, 8, 8, 16], b: [16] }, // a conv bias: SIMD
  { a: [12], b: [5, 12] }, // bias first: SIMD
  { a: [5, 7], b: [5, 7] }, // same shape with a scalar tail: SIMD
  { a: [3, 5], b: [5] }, // width not a multiple of 4: the original kernel
  { a: [4, 1], b: [1, 4] }, // general broadcast: the original kernel
];

for (const c of addCases) {
  test.serial(`Add a[${c.a}] b[${c.b}]: wasm equals cpu`, async (t) => {
    const r = await onBoth([c.a, c.b], (tf, [a, b]) => tf.add(a as Tensor, b as Tensor));
    t.deepEqual(r.wasmShape, r.cpuShape);
    t.is(relativeError(r.wasm, r.cpu), 0);
    t.is(r.leaked, 0);
  });
}

const sumCases: readonly { x: number[]; axis: number | number[]; keepDims: boolean }[] = [
  { x: [4, 8, 8, 16], axis: [0, 1, 2], keepDims: false }, // the conv bias gradient
  { x: [4, 8, 8, 16], axis: [2, 0, 1], keepDims: true },
  { x: [7, 5], axis: 0, keepDims: false },
  { x: [6, 3, 20], axis: [0, 1], keepDims: true }, // SIMD: 16 columns in one pass, then 4
  { x: [5, 6, 3], axis: [1], keepDims: false }, // not leading: the original kernel
  { x: [5, 6, 3], axis: [0, 1, 2], keepDims: false }, // all axes: the original kernel
];

for (const c of sumCases) {
  test.serial(`Sum x[${c.x}] axis ${JSON.stringify(c.axis)} keepDims ${c.keepDims}: wasm equals cpu`, async (t) => {
    const r = await onBoth([c.x], (tf, [x]) => tf.sum(x as Tensor, c.axis, c.keepDims));
    t.deepEqual(r.wasmShape, r.cpuShape);
    t.true(relativeError(r.wasm, r.cpu) <= TOLERANCE, `relative error ${relativeError(r.wasm, r.cpu)}`);
    t.is(r.leaked, 0);
  });
}
