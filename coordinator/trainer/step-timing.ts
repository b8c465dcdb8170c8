import { COORDINATOR_PHASES, WORKER_PHASES, type PhaseTimes } from '../../shared/common/phase-times.js';
import type { TaskId } from '../../shared/protocol/ids.js';

/** What the coordinator saw of one accepted answer. */
export interface AnswerTiming {
  /** From sending the task to starting to decode the answer, coordinator clock. */
  readonly roundTripMs: number;
  readonly decodeMs: number;
  readonly checkMs: number;
  /** The worker's own phases for this answer (empty from a worker that reports none). */
  readonly worker: PhaseTimes;
  /** When it was read, coordinator clock: the last one read is the step's critical path. */
  readonly readAt: number;
}

/**
 * The breakdown of one step, phases in step order (STEP_PHASES) adding up to `stepMs`: the last answer's path
 * (worker phases, wire = its round trip less the worker's time, the coordinator's decode and check of it), then the
 * exchange's phases, and `waiting` for the rest (waiting for workers to join, other answers' handling, event-loop
 * turns). A worker reports its previous answer's encode and send (an answer cannot carry its own), so one step's wire
 * can come out below zero; means over many steps are what to read. Pure.
 */
export function stepBreakdown(stepMs: number, last: AnswerTiming | undefined, exchange: PhaseTimes): PhaseTimes {
  const out: Record<string, number> = {};
  let used = 0;
  const put = (name: string, ms: number): void => {
    out[name] = ms;
    used += ms;
  };
  const workerTotal = WORKER_PHASES.reduce((s, p) => s + (last?.worker[p] ?? 0), 0);
  for (const p of WORKER_PHASES) put(`worker.${p}`, last?.worker[p] ?? 0);
  put('wire', last ? last.roundTripMs - workerTotal : 0);
  const coordinator: PhaseTimes = { ...exchange, decode: last?.decodeMs ?? 0, check: last?.checkMs ?? 0 };
  for (const p of COORDINATOR_PHASES) put(`coordinator.${p}`, coordinator[p] ?? 0);
  out['waiting'] = stepMs - used;
  return out;
}

/** Collects one step's timings as its round runs: task sends, answers read, then the breakdown. */
export class StepTimer {
  private readonly started = performance.now();
  private readonly sent = new Map<TaskId, number>();
  private last: AnswerTiming | undefined;

  taskSent(task: TaskId): void {
    this.sent.set(task, performance.now());
  }

  answerRead(task: TaskId, decodeMs: number, checkStartedAt: number, worker: PhaseTimes | undefined): void {
    const now = performance.now();
    const sentAt = this.sent.get(task) ?? this.started;
    this.last = { roundTripMs: checkStartedAt - decodeMs - sentAt, decodeMs, checkMs: now - checkStartedAt, worker: worker ?? {}, readAt: now };
  }

  finish(exchange: PhaseTimes): { readonly stepMs: number; readonly phases: PhaseTimes } {
    const stepMs = performance.now() - this.started;
    return { stepMs, phases: stepBreakdown(stepMs, this.last, exchange) };
  }
}
