import type { ErrorCode } from '../shared/common/errors.js';
import { boundedText } from '../shared/common/bounded-text.js';
import type { EvalRequest, StepAssignment, Welcome } from '../shared/protocol/messages.js';

/** Why a worker cannot go on with a coordinator, or cannot compute one of its tasks. */
export interface Problem {
  readonly code: ErrorCode;
  readonly reason: string;
}

/** A welcome into a run of another model: the coordinator checked our hello, this catches a confused coordinator. */
export function welcomeProblem(welcome: Welcome, modelKind: string): Problem | undefined {
  return welcome.modelKind === modelKind ? undefined : { code: 'ERR_MODEL_MISMATCH',
    reason: `the coordinator runs model '${boundedText(welcome.modelKind, 40)}', this worker '${modelKind}'` };
}

/**
 * A task for weights other than the ones held (`held`: the version of the last Weights since the welcome, if any).
 * Weights always precede their tasks on the link, so this is an ordering bug: computing would send gradients of
 * the wrong point, which no check downstream could tell from good ones.
 */
export function taskWeightsProblem(task: StepAssignment | EvalRequest, held: number | undefined): Problem | undefined {
  if (task.weightsVersion === held) return undefined;
  return { code: 'ERR_WEIGHTS_VERSION', reason: `task ${task.taskId} is for weights version ${task.weightsVersion}, this worker holds ${
    held === undefined ? 'none yet' : `version ${held}`}` };
}
