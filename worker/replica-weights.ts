import type { NamedTensor } from '../shared/common/named-tensor.js';
import { FactorProduct } from '../shared/exchange/factor-product.js';
import type { FactoredLayer } from '../shared/exchange/factored-layers.js';
import type { SgdState } from '../shared/exchange/sgd-step.js';
import { applyStepUpdate } from '../shared/exchange/step-update.js';
import { weightsCrc32 } from '../shared/exchange/weights-crc.js';
import type { StepUpdate, WeightsProof } from '../shared/protocol/messages.js';
import type { ReplicaStart } from './compute-engine.js';

/** What taking an update did: applied (the new weights to upload), or not, and why (the replica is then stale). */
export type UpdateOutcome = { readonly applied: true; readonly params: readonly NamedTensor[] } | { readonly applied: false; readonly why: string };

/**
 * A worker's copy of the weights in the factored exchange: set whole from a Weights message (join, resync), then
 * moved one step at a time by the coordinator's updates with the same code the coordinator runs (applyStepUpdate), so
 * they stay bit-identical; the proof (version and CRC-32) goes with every answer. An update for any version but the
 * next leaves the weights as they are: the next proof then names the old version and the coordinator resyncs.
 */
export class ReplicaWeights {
  private params: readonly NamedTensor[] = [];
  private state: SgdState = [];
  private version = -1;
  /** The CRC-32 of `params`, computed when a proof asks for it: only factored answers carry one. */
  private crc: number | undefined;
  private readonly product = new FactorProduct();

  /** `corruptAtVersion`: test hook, flips a bit of the weights once they reach this version by an update. */
  constructor(private readonly layers: readonly FactoredLayer[], private corruptAtVersion?: number) {}

  /** Takes the full weights (and optimizer state) of a version; they become this replica's own (updated in place). */
  set(tensors: readonly NamedTensor[], start: ReplicaStart): void {
    this.params = tensors;
    this.state = (start.optimizerState ?? []).map((t) => t.data);
    this.version = start.version;
    this.crc = undefined;
  }

  apply(update: StepUpdate): UpdateOutcome {
    if (this.version < 0) return { applied: false, why: 'no weights yet' };
    if (update.version !== this.version + 1) return { applied: false, why: `update to version ${update.version} on weights of version ${this.version}` };
    const next = applyStepUpdate(this.params, this.state, { meanGrads: update.meanGrads, factors: update.factors, samples: update.samples,
      sgd: { learningRate: update.learningRate, momentum: update.momentum, weightDecay: update.weightDecay } }, this.layers, this.product, true);
    this.params = next.params;
    this.state = next.state;
    this.version = update.version;
    if (this.corruptAtVersion === update.version) {
      this.corruptAtVersion = undefined;
      flipOneBit(this.params);
    }
    this.crc = undefined;
    return { applied: true, params: this.params };
  }

  proof(): WeightsProof {
    this.crc ??= weightsCrc32(this.params);
    return { version: Math.max(0, this.version), crc32: this.crc };
  }
}

/** Silent memory corruption, for the test of the proof: one bit of the first weight. */
function flipOneBit(params: readonly NamedTensor[]): void {
  const first = params[0];
  if (first && first.data.length > 0) new Uint32Array(first.data.buffer, first.data.byteOffset, 1)[0]! ^= 1;
}
