import type { TaskId, WorkerId } from '../../shared/protocol/ids.js';
import { deadlineMs, deadlinesMissed, repeatMissMs, type DeadlinePolicy } from './deadline.js';
import { predictTaskMs, type TaskTimeFit } from './task-time-model.js';
import type { TaskKind, WorkerRecord } from './worker-registry.js';

interface Running {
  readonly task: TaskId;
  readonly worker: WorkerId;
  readonly kind: TaskKind;
  readonly samples: number;
  readonly sentAtMs: number;
  readonly deadlineMs: number;
  /** Its predicted duration (the deadline over its factor). */
  readonly predictedMs: number;
  /** Whether the deadline came from the worker's own fitted time (false: a warm-up deadline). */
  readonly timed: boolean;
  /** Deadlines this task has missed so far. */
  missed: number;
  /** Of those, the ones counted against its worker. */
  charged: number;
}

/** A task past a deadline, reported once per deadline it misses. */
export interface Overdue {
  readonly task: TaskId;
  readonly worker: WorkerId;
  readonly kind: TaskKind;
  readonly samples: number;
  readonly elapsedMs: number;
  readonly deadlineMs: number;
  /** Deadlines this task has missed so far (1 on the first report). */
  readonly missed: number;
  /** Whether the deadline came from the worker's own fitted time (false: a warm-up deadline). */
  readonly timed: boolean;
  /** Misses of this task counted against its worker so far. */
  readonly charged: number;
}

/**
 * Every task sent and not yet answered, across rounds, with its deadline. A worker computes its tasks one after
 * another, so a task's clock starts when it was sent or when its worker answered the one before, whichever is later;
 * only a worker's oldest unanswered task is running. A task withdrawn from its round (a backup answered first) stays
 * here until its worker answers it or leaves: until then the worker is busy, and its late answer still times it.
 */
export class TaskClock {
  private readonly running = new Map<TaskId, Running>();
  private readonly lastAnswerMs = new Map<WorkerId, number>();

  constructor(private readonly policy: DeadlinePolicy) {}

  /**
   * Starts the clock of a task just sent; `fleet` gives the live workers, whose fitted times stand in for a
   * newcomer's (asked for only then: a worker with a fit of its own needs no one else's, and most tasks are such).
   */
  started(task: TaskId, worker: WorkerRecord, kind: TaskKind, samples: number, fleet: () => readonly WorkerRecord[], nowMs: number): void {
    const own = fitFor(worker, kind);
    const fits = own ? [] : fleet().map((w) => fitFor(w, kind)).filter((f): f is TaskTimeFit => f !== undefined);
    const deadline = deadlineMs(this.policy, samples, own, fits);
    this.running.set(task, { task, worker: worker.id, kind, samples, sentAtMs: nowMs, missed: 0, charged: 0, timed: own !== undefined,
      deadlineMs: deadline, predictedMs: own ? predictTaskMs(own, samples) : deadline / this.policy.factor });
  }

  /**
   * `worker` answered `task` (accepted or not): its time feeds the worker's model of that kind of task. Returns
   * whether the answer came within the deadline, or undefined for a task not running on that worker.
   */
  answered(task: TaskId, worker: WorkerRecord, nowMs: number): { readonly inTime: boolean } | undefined {
    const r = this.running.get(task);
    if (!r || r.worker !== worker.id) return undefined;
    const startMs = this.startOf(r);
    this.running.delete(task);
    this.lastAnswerMs.set(worker.id, nowMs);
    worker.taskTimes[r.kind].observe(r.samples, nowMs - startMs);
    return { inTime: nowMs - startMs <= r.deadlineMs };
  }

  /** `worker` failed `task` (an error instead of an answer): it is free again, and the failure times nothing. */
  failed(task: TaskId, worker: WorkerRecord, nowMs: number): void {
    if (this.running.get(task)?.worker !== worker.id) return;
    this.running.delete(task);
    this.lastAnswerMs.set(worker.id, nowMs);
  }

  /** How late a running task is: its time since it started, its deadline, and the misses it was charged. */
  lateness(task: TaskId, nowMs: number): { readonly elapsedMs: number; readonly deadlineMs: number; readonly timed: boolean;
    readonly charged: number; } | undefined {
    const r = this.running.get(task);
    return r ? { elapsedMs: nowMs - this.startOf(r), deadlineMs: r.deadlineMs, timed: r.timed, charged: r.charged } : undefined;
  }

  /** Notes a miss of this task counted against its worker. */
  charge(task: TaskId): void {
    const r = this.running.get(task);
    if (r) r.charged += 1;
  }

  /** Whether the worker still computes a task of any round (e.g. one a backup already answered). */
  busy(worker: WorkerId): boolean {
    for (const r of this.running.values()) if (r.worker === worker) return true;
    return false;
  }

  /**
   * When the worker should be free for a new task, in ms from now: 0 when idle, the predicted rest of its running
   * tasks otherwise, undefined when its running task is past its deadline (no telling when, if ever, it is free).
   */
  freeInMs(worker: WorkerId, nowMs: number): number | undefined {
    const mine = [...this.running.values()].filter((r) => r.worker === worker);
    if (mine.length === 0) return 0;
    const elapsed = nowMs - this.startOf(mine[0]!);
    if (elapsed > mine[0]!.deadlineMs) return undefined;
    return Math.max(0, mine.reduce((ms, r) => ms + r.predictedMs, 0) - elapsed);
  }

  /** Deadlines missed since the last call by each worker's running task (see deadlinesMissed). */
  overdue(nowMs: number): Overdue[] {
    const out: Overdue[] = [];
    for (const r of this.oldestPerWorker()) {
      const elapsedMs = nowMs - this.startOf(r);
      const missed = deadlinesMissed(elapsedMs, r.deadlineMs, repeatMissMs(this.policy, r.deadlineMs));
      if (missed <= r.missed) continue;
      r.missed = missed;
      out.push({ task: r.task, worker: r.worker, kind: r.kind, samples: r.samples, elapsedMs, deadlineMs: r.deadlineMs, missed, timed: r.timed, charged: r.charged });
    }
    return out;
  }

  /** The worker is gone: its tasks will never be answered. */
  forget(worker: WorkerId): void {
    for (const [task, r] of this.running) if (r.worker === worker) this.running.delete(task);
    this.lastAnswerMs.delete(worker);
  }

  private startOf(r: Running): number {
    return Math.max(r.sentAtMs, this.lastAnswerMs.get(r.worker) ?? 0);
  }

  private oldestPerWorker(): Running[] {
    const oldest = new Map<WorkerId, Running>();
    // Map iteration follows insertion, i.e. sending order.
    for (const r of this.running.values()) if (!oldest.has(r.worker)) oldest.set(r.worker, r);
    return [...oldest.values()];
  }
}

/**
 * The fitted time a worker is planned and clocked by for a kind of task. An evaluation it has not timed yet is
 * predicted by its training step time, which costs more per sample (a backward pass), so the guess errs long.
 */
export function fitFor(worker: WorkerRecord, kind: TaskKind): TaskTimeFit | undefined {
  return worker.taskTimes[kind].fit ?? (kind === 'eval' ? worker.taskTimes.step.fit : undefined);
}
