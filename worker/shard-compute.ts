import type { NamedTensor } from '../shared/common/named-tensor.js';
import type { HeadStat } from '../shared/model/heads.js';
import type { Agreement, EvalRequest, StepAssignment } from '../shared/protocol/messages.js';

/**
 * What a worker computes for its tasks, behind one seam: the model on real data in production (ModelCompute); the
 * scale benchmark swaps in a calibrated delay (scripts/bench/scale/simulated-compute.ts) so the rest of the worker,
 * its socket and its protocol stay the real ones.
 */
export interface ShardCompute {
  /** Reported in the hello. */
  readonly backendName: string;
  /** Reported in the hello; the coordinator refuses a worker on another dataset. */
  readonly datasetFingerprint: string;
  setParams(tensors: readonly NamedTensor[]): void;
  /** Gradient sums and per-head sums of the step's shard. */
  gradients(task: StepAssignment): Promise<{ readonly grads: readonly NamedTensor[]; readonly heads: readonly HeadStat[] }>;
  evaluate(task: EvalRequest): Promise<{ readonly heads: readonly HeadStat[]; readonly agreement?: Agreement }>;
  dispose(): void;
}
