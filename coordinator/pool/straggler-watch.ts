import type { Logger } from '../../shared/common/logger.js';
import type { TaskId } from '../../shared/protocol/ids.js';
import type { DeadlinePolicy } from './deadline.js';
import { MissedDeadlines } from './missed-deadlines.js';
import { peerIdentity } from './peer-identity.js';
import type { RoundInFlight } from './round-runner.js';
import { TaskClock } from './task-clock.js';
import type { TaskKind, WorkerRecord, WorkerRegistry } from './worker-registry.js';

/** How far past its deadline a task outrun by its backup must be for the miss to count. */
const OUTRUN_LATENESS = 1.5;

/** How the watch reaches the pool: its workers, the round in flight, and the way out for a faulty worker. */
export interface StragglerHooks {
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  current(): RoundInFlight | undefined;
  /** Refuses and drops a worker (its tasks go back to the round). */
  disconnect(worker: WorkerRecord, reason: string): void;
}

/**
 * Holds every task to a deadline from its worker's fitted speed. A worker past a deadline is logged as a straggler
 * (ERR_STRAGGLER) and the round backs up its pieces; one that misses `maxMisses` deadlines in a row (a task that
 * never comes back keeps missing, once per deadline span) is disconnected, and refused if it says hello again.
 */
export class StragglerWatch {
  private readonly clock: TaskClock;
  private readonly misses: MissedDeadlines;

  /** `silentAfterMs`: a worker not heard from this long is not charged for a miss (it may be stopped, not hung). */
  constructor(private readonly policy: DeadlinePolicy, private readonly silentAfterMs: number, private readonly hooks: StragglerHooks) {
    this.clock = new TaskClock(policy);
    this.misses = new MissedDeadlines(policy.maxMisses);
  }

  sent(task: TaskId, worker: WorkerRecord, kind: TaskKind, samples: number): void {
    this.clock.started(task, worker, kind, samples, () => this.hooks.registry.ready(), performance.now());
  }

  /** An answer (of any verdict) from `worker`: times it, and an answer in time clears the worker's misses. */
  answered(task: TaskId, worker: WorkerRecord): void {
    if (this.clock.answered(task, worker, performance.now())?.inTime) this.misses.metDeadline(peerIdentity(worker));
  }

  failed(task: TaskId, worker: WorkerRecord): void {
    this.clock.failed(task, worker, performance.now());
  }

  departed(worker: WorkerRecord): void {
    this.clock.forget(worker.id);
  }

  busy(worker: WorkerRecord): boolean {
    return this.clock.busy(worker.id);
  }

  freeInMs(worker: WorkerRecord): number | undefined {
    return this.clock.freeInMs(worker.id, performance.now());
  }

  /** Why a hello must be refused: its identity kept missing deadlines. */
  barred(hello: { readonly host: string; readonly pid: number; readonly workerName: string }): string | undefined {
    const identity = peerIdentity({ host: hello.host, pid: hello.pid, name: hello.workerName });
    return this.misses.faulty(identity) ? `missed ${this.misses.misses(identity)} task deadlines in a row` : undefined;
  }

  /**
   * Acts on the deadlines missed since the last check. Every miss gets the round to back the worker up. A first miss
   * only counts against the worker if its backup then answers first, well after the deadline (`outrun`); a task still unanswered a repeat
   * span later counts each time. Misses count only while the worker's heartbeats still arrive (a silent worker is
   * the liveness check's business and may come back, e.g. after SIGSTOP/SIGCONT), and a warm-up task (no fitted
   * time yet: a first task may compile kernels) counts at most maxMisses - 1 times, so one slow first task never
   * disconnects a worker on its own.
   */
  check(nowMs: number): void {
    const round = this.hooks.current();
    for (const o of this.clock.overdue(nowMs)) {
      const w = this.hooks.registry.get(o.worker);
      if (!w || w.state !== 'ready') continue;
      const heard = nowMs - w.lastSeenMs <= this.silentAfterMs;
      const counts = heard && o.missed > 1 && this.chargeable(o);
      const identity = peerIdentity(w);
      if (counts) this.clock.charge(o.task);
      const miss = counts ? this.misses.miss(identity) : { inARow: this.misses.misses(identity), faulty: false };
      this.hooks.log.warn({ worker: w.id, workerName: w.name, host: w.host, workerPid: w.pid, task: o.task, taskKind: o.kind,
        samples: o.samples, elapsedMs: Math.round(o.elapsedMs), deadlineMs: Math.round(o.deadlineMs), timed: o.timed, heard,
        missedInARow: miss.inARow, ...(w.tasks.has(o.task) && round ? { round: round.kind, ...round.context } : { round: null }),
        code: 'ERR_STRAGGLER' }, 'worker missed a task deadline: straggler');
      if (miss.faulty) {
        this.hooks.disconnect(w, `missed ${miss.inARow} task deadlines in a row`);
        continue;
      }
      round?.straggling(w);
    }
  }

  /** A warm-up task (no fitted time) is charged at most maxMisses - 1 misses: alone, it never makes a worker faulty. */
  private chargeable(task: { readonly timed: boolean; readonly charged: number }): boolean {
    return task.timed || task.charged < this.policy.maxMisses - 1;
  }

  /**
   * A backup of `worker`'s late task answered first: the miss counts if the task was well past its deadline by then
   * (OUTRUN_LATENESS x it); a backup that wins narrowly says more about noise in the fit than about the worker.
   */
  outrun(worker: WorkerRecord, task: TaskId): void {
    const late = this.clock.lateness(task, performance.now());
    if (worker.state !== 'ready' || !late || late.elapsedMs < OUTRUN_LATENESS * late.deadlineMs || !this.chargeable(late)) return;
    this.clock.charge(task);
    const miss = this.misses.miss(peerIdentity(worker));
    this.hooks.log.warn({ worker: worker.id, workerName: worker.name, task, missedInARow: miss.inARow, code: 'ERR_STRAGGLER' },
      'a backup answered before the straggler');
    if (miss.faulty) this.hooks.disconnect(worker, `missed ${miss.inARow} task deadlines in a row`);
  }
}
