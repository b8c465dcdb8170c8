import type { ErrorCode } from '../../shared/common/errors.js';
import type { TaskId } from '../../shared/protocol/ids.js';
import type { Logger } from '../../shared/common/logger.js';
import type { EvalResult, Gradients, Message } from '../../shared/protocol/messages.js';
import { planShards, type WorkerCapacity } from './shard-plan.js';
import { fitFor } from './task-clock.js';
import { predictTaskMs, type TaskTimeFit } from './task-time-model.js';
import { TaskRound, type Piece } from './task-round.js';
import type { RunEventBody } from '../observe/run-events.js';
import type { TaskKind, WorkerRecord, WorkerRegistry } from './worker-registry.js';

/** A worker's answer to a task. */
export type TaskAnswer = Gradients | EvalResult;

export type AnswerReading<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly problem: string };

/** What a kind of round is: the task it sends for a piece, and how it reads an answer. */
export interface RoundSpec<R> {
  /** Also the kind of task its workers are timed on. */
  readonly kind: TaskKind;
  /** The answer its tasks get; another type of answer to one of its task ids is stale. */
  readonly answer: TaskAnswer['type'];
  /** The code a refused answer is logged with. */
  readonly refusal: ErrorCode;
  /** Log fields naming the round, e.g. its step. */
  readonly context: Readonly<Record<string, unknown>>;
  task(task: TaskId, piece: Piece): Message;
  /** Called only for an answer of type `answer` to a pending task of the worker that holds it. */
  read(answer: TaskAnswer, sender: WorkerRecord): AnswerReading<R>;
}

/** What the pool lends a round: its workers, task ids, and sends that start each task's deadline clock. */
export interface RoundCrew {
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  nextTaskId(): TaskId;
  /** Reassignments, for the run's views. */
  event(body: RunEventBody): void;
  /** Sends a task of `samples` samples and starts its clock. */
  sendTask(worker: WorkerRecord, task: TaskId, samples: number, message: Message): void;
  /** Whether the worker still computes an earlier task, of this round or of one before. */
  busy(worker: WorkerRecord): boolean;
  /** When it should be free for a new task (ms from now); undefined: it is late on one, no telling when. */
  freeInMs(worker: WorkerRecord): number | undefined;
  /** A backup answered before the straggler's own task. */
  outrun(worker: WorkerRecord, task: TaskId): void;
}

export type AnswerVerdict = { readonly kind: 'accepted' } | { readonly kind: 'stale' }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly reason: string };

/** The round in flight as the pool sees it, whatever its result type. */
export interface RoundInFlight {
  readonly kind: RoundSpec<unknown>['kind'];
  readonly context: Readonly<Record<string, unknown>>;
  answer(sender: WorkerRecord, answer: TaskAnswer): AnswerVerdict;
  /** Takes tasks back from a worker (lost, left, failed them or answered badly) and assigns them again. */
  reclaim(worker: WorkerRecord, tasks: readonly TaskId[], why: string): void;
  /** A worker missed a deadline: each piece it holds gets a backup task on an idle worker. */
  straggling(worker: WorkerRecord): void;
  /** A worker joined: pieces parked for want of workers go out now. */
  workerJoined(): void;
  abort(error: Error): void;
}

/**
 * Runs one round over the live workers: splits its samples to finish soonest by their fitted task times, sends the
 * tasks, takes each piece's answer once, reassigns what a lost or failing worker held, parks what finds no worker,
 * and resolves with the results in sample order. A straggler's pieces get backup tasks on idle workers (MapReduce's
 * backup tasks): the same piece at the same offset, so whichever answer comes first, the round's results, and the
 * sum over them, are the same.
 */
export class RoundRunner<R> implements RoundInFlight {
  private readonly round: TaskRound<R>;
  /** Tasks of stragglers still waiting for an idle worker to back them up. */
  private readonly wantBackup = new Set<TaskId>();
  private readonly backups = new Set<TaskId>();

  constructor(private readonly spec: RoundSpec<R>, total: number, private readonly crew: RoundCrew) {
    this.round = new TaskRound<R>(spec.kind, total);
  }

  get kind(): RoundSpec<R>['kind'] {
    return this.spec.kind;
  }

  get context(): Readonly<Record<string, unknown>> {
    return this.spec.context;
  }

  run(indices: Uint32Array): Promise<R[]> {
    this.assign([{ offset: 0, indices }]);
    return this.round.finished;
  }

  answer(sender: WorkerRecord, answer: TaskAnswer): AnswerVerdict {
    const round = this.round;
    if (answer.type !== this.spec.answer || round.workerOf(answer.taskId) !== sender.id) return { kind: 'stale' };
    const reading = this.spec.read(answer, sender);
    if (!reading.ok) return { kind: 'refused', code: this.spec.refusal, reason: reading.problem };
    const expected = round.expectedCount(answer.taskId);
    const others = round.attempts(answer.taskId).filter((t) => t !== answer.taskId).map((t) => ({ task: t, worker: round.workerOf(t)! }));
    const verdict = round.complete(answer.taskId, sender.id, answer.sampleCount, reading.result);
    if (verdict !== 'accepted') {
      return { kind: 'refused', code: this.spec.refusal,
        reason: `${answer.type} ${verdict} (${answer.sampleCount} samples for a task of ${expected})` };
    }
    sender.tasks.delete(answer.taskId);
    this.wantBackup.delete(answer.taskId);
    for (const other of others) {
      // The slower attempt at the piece: withdrawn, its answer will be dropped by task id.
      this.crew.registry.get(other.worker)?.tasks.delete(other.task);
      this.wantBackup.delete(other.task);
      this.crew.log.info({ worker: sender.id, task: answer.taskId, withdrawn: other.task, withdrawnFrom: other.worker,
        samples: answer.sampleCount, ...this.spec.context }, 'first answer for a backed-up piece taken; the other attempt is dropped');
      const loser = this.crew.registry.get(other.worker);
      if (loser && !this.backups.has(other.task)) this.crew.outrun(loser, other.task);
    }
    this.backUp();
    return { kind: 'accepted' };
  }

  reclaim(worker: WorkerRecord, tasks: readonly TaskId[], why: string): void {
    const pieces: Piece[] = [];
    for (const t of tasks) {
      if (this.round.workerOf(t) !== worker.id) continue;
      const piece = this.round.reclaim(t);
      worker.tasks.delete(t);
      this.wantBackup.delete(t);
      if (piece) pieces.push(piece);
    }
    if (pieces.length === 0) return;
    this.crew.log.info({ worker: worker.id, pieces: pieces.length, samples: sampleCount(pieces), why }, why === 'departed'
      ? 'reassigning the tasks of a departed worker' : 'reassigning tasks');
    this.crew.event({ kind: 'task-reassigned', from: worker.name, pieces: pieces.length, samples: sampleCount(pieces), round: this.spec.kind });
    this.assign(pieces);
  }

  straggling(worker: WorkerRecord): void {
    for (const t of this.round.tasksOf(worker.id)) this.wantBackup.add(t);
    this.backUp();
  }

  workerJoined(): void {
    const parked = this.round.takeParked();
    if (parked.length > 0) this.assign(parked);
    this.backUp();
  }

  abort(error: Error): void {
    this.round.abort(error);
  }

  /** Gives each straggler's piece still unanswered a backup task on the idle worker predicted fastest for it. */
  private backUp(): void {
    for (const task of [...this.wantBackup]) {
      if (!this.round.holds(task)) {
        this.wantBackup.delete(task);
        continue;
      }
      const holders = new Set(this.round.attempts(task).map((t) => this.round.workerOf(t)));
      const samples = this.round.expectedCount(task)!;
      const idle = this.crew.registry.ready().filter((w) => !holders.has(w.id) && !this.crew.busy(w));
      const best = idle.map((w) => ({ w, ms: predicted(w, this.spec.kind, samples) })).sort((a, b) => a.ms - b.ms)[0]?.w;
      if (!best) continue;
      const backup = this.crew.nextTaskId();
      const piece = this.round.assignBackup(backup, task, best.id)!;
      this.wantBackup.delete(task);
      this.backups.add(backup);
      best.tasks.add(backup);
      this.crew.log.info({ worker: best.id, task: backup, backupOf: task, straggler: this.round.workerOf(task), samples,
        ...this.spec.context }, 'backup task for a straggler\'s piece');
      this.crew.sendTask(best, backup, samples, this.spec.task(backup, piece));
    }
  }

  private assign(pieces: readonly Piece[]): void {
    const ready = this.crew.registry.ready();
    if (ready.length === 0) {
      this.round.park(pieces);
      this.crew.log.warn({ samples: sampleCount(pieces) }, 'no live worker: waiting for one');
      return;
    }
    // A worker still busy starts its share when it is free; one late on a task is planned around unless no one else is.
    const free = ready.map((w) => ({ w, inMs: this.crew.freeInMs(w) })).filter((f) => f.inMs !== undefined);
    const capacities = free.length > 0
      ? plannedTimes(free.map((f) => f.w), this.spec.kind).map((c, i) => ({ ...c, readyInMs: free[i]!.inMs! }))
      : plannedTimes(ready, this.spec.kind);
    this.crew.log.debug({ ...this.spec.context, plan: capacities.map((c) => ({ worker: c.id, fixedMs: Math.round(c.fixedMs),
      perSampleMs: Math.round(c.perSampleMs * 100) / 100, readyInMs: Math.round(c.readyInMs ?? 0) })) }, 'planning shards');
    for (const piece of pieces) {
      for (const shard of planShards(piece.indices, capacities)) {
        const task = this.crew.nextTaskId();
        const worker = this.crew.registry.get(shard.worker)!;
        const assigned = { offset: piece.offset + shard.offset, indices: shard.indices };
        this.round.assign(task, worker.id, assigned);
        worker.tasks.add(task);
        this.crew.sendTask(worker, task, assigned.indices.length, this.spec.task(task, assigned));
      }
    }
  }
}

/**
 * The fitted times a round is planned by. An evaluation uses evaluation times only when every worker has one (they
 * are cheaper per sample than steps, and mixing both would skew the split). Workers not timed yet are planned as
 * the mean of those that are; with no one timed, the split is even.
 */
export function plannedTimes(workers: readonly WorkerRecord[], kind: TaskKind): WorkerCapacity[] {
  const own = workers.map((w) => w.taskTimes[kind].fit);
  const fits = own.every((f) => f !== undefined) ? own : workers.map((w) => w.taskTimes.step.fit);
  const known = fits.filter((f): f is TaskTimeFit => f !== undefined);
  const fallback: TaskTimeFit = known.length === 0 ? { fixedMs: 0, perSampleMs: 1 }
    : { fixedMs: mean(known.map((f) => f.fixedMs)), perSampleMs: mean(known.map((f) => f.perSampleMs)) };
  return workers.map((w, i) => ({ id: w.id, ...(fits[i] ?? fallback) }));
}

/** A worker's predicted time for a piece; untimed workers sort last. */
function predicted(worker: WorkerRecord, kind: TaskKind, samples: number): number {
  const fit = fitFor(worker, kind);
  return fit ? predictTaskMs(fit, samples) : Number.MAX_VALUE;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function sampleCount(pieces: readonly Piece[]): number {
  return pieces.reduce((n, p) => n + p.indices.length, 0);
}
