import type { NamedTensor } from '../shared/common/named-tensor.js';
import type { EvalRequest, StepAssignment, StepUpdate } from '../shared/protocol/messages.js';
import type { ComputeAnswer } from './compute-messages.js';

/** A Weights message's version and optimizer state, which a replica starts from. */
export interface ReplicaStart {
  readonly version: number;
  readonly optimizerState?: readonly NamedTensor[];
}

export interface ComputeEvents {
  /** Each task's answer, in the order the tasks were given. */
  readonly onAnswer: (answer: ComputeAnswer) => void;
  /** The engine died on its own (an uncaught error, out of memory); no further answer will come. */
  readonly onCrash: (error: Error) => void;
}

/**
 * What a worker's socket thread needs of its compute: tasks in, answers out through ComputeEvents, in order, never
 * blocking the socket thread. In production that is the model in a compute thread (ComputeThread); the scale
 * benchmark plugs in a calibrated delay (scripts/bench/scale/simulated-compute.ts) so that the rest of the worker,
 * its socket and its protocol stay the real ones.
 */
export interface ComputeEngine {
  /** Reported in the hello. */
  readonly backend: { readonly name: string; readonly reason: string };
  /**
   * Takes the weights; their buffers may move to the engine and be unusable to the caller afterwards. `replica`: their
   * version and optimizer state, for the factored exchange (the engine then answers with a proof of them).
   */
  setWeights(tensors: readonly NamedTensor[], replica?: ReplicaStart): void;
  /** Factored exchange: applies a step update to the replica's weights (engines without replicas do not have it). */
  update?(update: StepUpdate): void;
  step(task: StepAssignment): void;
  evaluate(task: EvalRequest): void;
  /** Ends the engine, abandoning the task in flight; answers not yet delivered are lost. */
  terminate(): Promise<void>;
}
