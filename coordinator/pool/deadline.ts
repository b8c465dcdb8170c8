import { predictTaskMs, type TaskTimeFit } from './task-time-model.js';

/** How long a task may take before its worker counts as a straggler and the task gets a backup. */
export interface DeadlinePolicy {
  /** Deadline = factor x the worker's predicted time for the task. */
  readonly factor: number;
  /** Least deadline of a worker with a fitted time: below it, timer and network noise dominate. */
  readonly minMs: number;
  /** Least deadline of a task its worker has no fitted time for (first task, warm-up: kernel compilation, caches). */
  readonly warmupMs: number;
  /** Missed deadlines in a row after which a worker is treated as faulty and disconnected. */
  readonly maxMisses: number;
}

/** Defaults against the pool's liveness settings: a first task may take as long as the silence allowed a worker. */
export function defaultDeadlinePolicy(heartbeatIntervalMs: number, workerTimeoutMs: number): DeadlinePolicy {
  return { factor: 2, minMs: Math.max(500, 2 * heartbeatIntervalMs), warmupMs: workerTimeoutMs, maxMisses: 4 };
}

/**
 * The deadline of a task of `samples`, in ms after it was sent. `own` is the worker's fitted time for such tasks;
 * without one, the slowest fitted worker of `fleet` predicts it, and the warm-up floor applies. Pure.
 */
export function deadlineMs(policy: DeadlinePolicy, samples: number, own: TaskTimeFit | undefined, fleet: readonly TaskTimeFit[]): number {
  if (own) return Math.max(policy.minMs, policy.factor * predictTaskMs(own, samples));
  const slowest = Math.max(0, ...fleet.map((f) => predictTaskMs(f, samples)));
  return Math.max(policy.warmupMs, policy.factor * slowest);
}

/**
 * Deadlines a task still unanswered `elapsedMs` after it started has missed: one at its deadline `spanMs`, then one
 * more per `repeatMs` after it. A merely late task counts once or twice; one that never comes back (hung compute, a
 * peer that never answers) keeps counting until its worker is treated as faulty. Pure.
 */
export function deadlinesMissed(elapsedMs: number, spanMs: number, repeatMs: number): number {
  if (!(spanMs > 0) || !(repeatMs > 0) || elapsedMs < spanMs) return 0;
  return 1 + Math.floor((elapsedMs - spanMs) / repeatMs);
}

/**
 * How often a task past its deadline counts again: every three deadline spans (a worker slowed 5x answers within
 * 2.5 spans, so only a task 8x late or more counts twice), and never more often than the warm-up span.
 */
export function repeatMissMs(policy: DeadlinePolicy, spanMs: number): number {
  return Math.max(3 * spanMs, policy.warmupMs);
}
