import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import type { HeadName, HeadStat, LossWeights } from './heads.js';
import type { NamedTensor } from '../common/named-tensor.js';
import { elementCount } from '../common/named-tensor.js';
import { scoped } from '../compute/scoped.js';
import type { TfModule } from '../compute/tf-module.js';
import { headLabels, type Batch } from './batch.js';
import { checkBatch } from './batch-check.js';
import { forwardLogits } from './forward.js';
import { inputTensor, type InputName } from './model-inputs.js';
import { agreement, emptyHeadStat, headStat, type Agreement } from './head-stats.js';
import { modelSpec, type ModelKind, type ModelSpec } from './model-spec.js';
import { checkParams } from './param-check.js';
import type { FactoredLayer } from '../exchange/factored-layers.js';

export interface GradientResult {
  /** Gradient, w.r.t. each param (same names/order as modelSpec), of the SUM over the batch's samples of sum_h weight_h * CE_h(sample). Sum, not mean: the coordinator divides by the global batch size. */
  readonly grads: NamedTensor[];
  /** Per head of the model: unweighted CE summed over samples, arg-max hits, count (training-time figures). */
  readonly heads: readonly HeadStat[];
  /** With factored layers: x then dy of each (see gradients). */
  readonly factors?: NamedTensor[];
  /** Time spent reading the results back from the backend (part of the call; for the step's phases). */
  readonly readBackMs?: number;
}

/** A read-back array as a Float32Array of its own (dataSync already returns a fresh one on wasm and cpu). */
function ownFloat32(data: ArrayLike<number> | undefined): Float32Array {
  if (data instanceof Float32Array) return data;
  return Float32Array.from(data ?? []);
}

function emptyFactors(layers: readonly FactoredLayer[]): NamedTensor[] {
  return layers.flatMap((l) => [{ name: l.x, shape: [0, l.in], data: new Float32Array(0) }, { name: l.dy, shape: [0, l.out], data: new Float32Array(0) }]);
}

export interface EvalResult {
  readonly heads: readonly HeadStat[];
  /** Models with an alphabet and a character head, given characterAlphabet: implied alphabet vs that head and the truth. */
  readonly agreement?: Agreement;
}

export interface ModelRunnerOptions {
  /** character index -> alphabet index, for EvalResult.agreement. */
  readonly characterAlphabet?: Int32Array;
}

/** Per head, the per-sample cross-entropy [n] and the arg-max prediction [n]. */
interface HeadOutputs {
  readonly crossEntropy: Tensor1D;
  readonly predicted: Tensor1D;
}

/** HeadOutputs read back to the host. */
interface HeadReadout {
  readonly crossEntropy: Float32Array;
  readonly predicted: Int32Array;
}

/**
 * One model's forward, loss and gradient on whichever backend `tf` runs. Holds the current parameters as tensors;
 * every call runs inside a tidy scope and leaves tf.memory().numTensors as it found it.
 */
export class ModelRunner {
  private readonly spec: ModelSpec;
  private params: Map<string, Tensor> = new Map();

  private constructor(
    private readonly tf: TfModule,
    kind: ModelKind,
    private readonly characterAlphabet: Int32Array | undefined,
  ) {
    this.spec = modelSpec(kind);
  }

  static create(kind: ModelKind, tf: TfModule, options: ModelRunnerOptions = {}): ModelRunner {
    return new ModelRunner(tf, kind, options.characterAlphabet);
  }

  /** Replaces all parameters; throws an Error naming the param on a missing, extra or misshapen one. */
  setParams(params: readonly NamedTensor[]): void {
    const checked = checkParams(this.spec, params);
    const next = new Map<string, Tensor>();
    for (const p of this.spec.params) {
      const given = checked.get(p.name);
      if (given !== undefined) next.set(p.name, this.tf.tensor(given.data, [...p.shape], 'float32'));
    }
    this.disposeParams();
    this.params = next;
  }

  /**
   * With `factored` layers (the factored exchange), their kernels get no gradient here (backward skips that product):
   * `factors` carries each one's input x [size, in] and dy [size, out] instead, whose product x^T dy is that gradient.
   * dy comes from a zeros tensor added to the layer's pre-activation, differentiated like a parameter.
   */
  gradients(batch: Batch, weights: LossWeights, factored: readonly FactoredLayer[] = []): GradientResult {
    checkBatch(batch);
    this.requireParams();
    const skip = new Set(factored.map((l) => l.kernel));
    const kept = this.spec.params.filter((p) => !skip.has(p.name));
    if (batch.size === 0) {
      const grads = kept.map((p) => ({ name: p.name, shape: [...p.shape], data: new Float32Array(elementCount(p.shape)) }));
      return { grads, heads: this.spec.heads.map(emptyHeadStat), ...(factored.length > 0 ? { factors: emptyFactors(factored) } : {}) };
    }
    const { tf, spec } = this;
    const outputs = new Map<HeadName, HeadOutputs>();
    const inputsSeen = new Map<string, Tensor>();
    let readStarted = performance.now();
    try {
      const read = scoped(tf, () => {
        const inputs = this.inputs(batch);
        const names = kept.map((p) => p.name);
        const loss = (...values: Tensor[]): Tensor => {
          const params = new Map(this.params);
          names.forEach((name, i) => params.set(name, values[i] as Tensor));
          const taps = factored.length === 0 ? undefined : {
            add: new Map(factored.map((l, j) => [l.param, values[names.length + j] as Tensor])),
            input: (param: string, x: Tensor) => inputsSeen.set(param, tf.keep(x)),
          };
          const logits = forwardLogits(tf, spec, params, inputs, taps);
          const terms: Tensor[] = [];
          for (const [head, headLogits] of logits) {
            const out = this.headOutputs(headLogits, headLabels(batch, head));
            // Kept past the tidy of the gradient so the stats come from the same forward pass; disposed below.
            outputs.set(head, { crossEntropy: tf.keep(out.crossEntropy), predicted: tf.keep(out.predicted) });
            // Zero-weight heads stay in the sum (times 0) so every param has a gradient, zero where unused.
            terms.push(tf.mul(tf.sum(out.crossEntropy), weights.get(head) ?? 0));
          }
          return tf.addN(terms);
        };
        const zeros = factored.map((l) => tf.zeros([batch.size, l.out]));
        const { grads } = tf.valueAndGrads(loss)([...names.map((name) => this.params.get(name) as Tensor), ...zeros]);
        readStarted = performance.now();
        return grads.map((g) => g.dataSync<'float32'>());
      });
      const grads = kept.map((p, i) => ({ name: p.name, shape: [...p.shape], data: ownFloat32(read[i]) }));
      const factors = factored.flatMap((l, j) => [
        { name: l.x, shape: [batch.size, l.in], data: ownFloat32(inputsSeen.get(l.param)?.dataSync<'float32'>()) },
        { name: l.dy, shape: [batch.size, l.out], data: ownFloat32(read[kept.length + j]) },
      ]);
      const heads = this.readStats(batch, outputs);
      return { grads, heads, readBackMs: performance.now() - readStarted, ...(factored.length > 0 ? { factors } : {}) };
    } finally {
      for (const out of outputs.values()) tf.dispose([out.crossEntropy, out.predicted]);
      tf.dispose([...inputsSeen.values()]);
    }
  }

  evaluate(batch: Batch): EvalResult {
    checkBatch(batch);
    this.requireParams();
    const { tf } = this;
    const read = batch.size === 0 ? new Map<HeadName, HeadReadout>() : scoped(tf, () => {
      const logits = forwardLogits(tf, this.spec, this.params, this.inputs(batch));
      const perHead = new Map<HeadName, HeadReadout>();
      for (const [head, headLogits] of logits) {
        const out = this.headOutputs(headLogits, headLabels(batch, head));
        perHead.set(head, { crossEntropy: out.crossEntropy.dataSync<'float32'>(), predicted: out.predicted.dataSync<'int32'>() });
      }
      return perHead;
    });
    const heads = this.spec.heads.map((head) => {
      const r = read.get(head);
      return r === undefined ? emptyHeadStat(head) : headStat(head, r.crossEntropy, r.predicted, headLabels(batch, head));
    });
    if (!this.spec.agreement || this.characterAlphabet === undefined) return { heads };
    const none = new Int32Array(0);
    return { heads, agreement: agreement(this.characterAlphabet, read.get('character')?.predicted ?? none,
      read.get('alphabet')?.predicted ?? none, batch.alphabet) };
  }

  /** Softmax probabilities per head, row-major [size, classes]. */
  predict(batch: Batch): { readonly probabilities: ReadonlyMap<HeadName, Float32Array> } {
    checkBatch(batch);
    this.requireParams();
    const { tf } = this;
    const probabilities = scoped(tf, () => {
      const logits = forwardLogits(tf, this.spec, this.params, this.inputs(batch));
      return new Map([...logits].map(([head, l]) => [head, Float32Array.from(tf.softmax(l).dataSync<'float32'>())] as const));
    });
    return { probabilities };
  }

  dispose(): void {
    this.disposeParams();
  }

  /** The model's input tensors for `batch`. Call inside a tidy scope. */
  private inputs(batch: Batch): Map<InputName, Tensor> {
    return new Map(this.spec.inputs.map((input) => [input, inputTensor(this.tf, input, batch.size, batch)]));
  }

  private headOutputs(logits: Tensor2D, labels: Int32Array): HeadOutputs {
    const { tf } = this;
    const classes = logits.shape[1];
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
    // CE = -log softmax at the label; logSoftmax is the numerically stable form.
    const crossEntropy = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as Tensor1D;
    return { crossEntropy, predicted: tf.argMax(logits, 1) as Tensor1D };
  }

  private readStats(batch: Batch, outputs: ReadonlyMap<HeadName, HeadOutputs>): HeadStat[] {
    return this.spec.heads.map((head) => {
      const out = outputs.get(head);
      if (out === undefined) return emptyHeadStat(head);
      return headStat(head, out.crossEntropy.dataSync<'float32'>(), out.predicted.dataSync<'int32'>(), headLabels(batch, head));
    });
  }

  private requireParams(): void {
    if (this.params.size === 0) throw new Error(`ModelRunner(${this.spec.kind}): setParams was never called`);
  }

  private disposeParams(): void {
    for (const t of this.params.values()) t.dispose();
    this.params = new Map();
  }
}
