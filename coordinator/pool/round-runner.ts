import type { ErrorCode } from '../../shared/common/errors.js';
import type { TaskId } from '../../shared/protocol/ids.js';
import type { Logger } from '../../shared/common/logger.js';
import type { EvalResult, Gradients, Message } from '../../shared/protocol/messages.js';
import { planShards, type WorkerCapacity } from './shard-plan.js';
import { TaskRound, type Piece } from './task-round.js';
import type { RunEventBody } from '../observe/run-events.js';
import type { WorkerRecord, WorkerRegistry } from './worker-registry.js';

/** A worker's answer to a task. */
export type TaskAnswer = Gradients | EvalResult;

export type AnswerReading<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly problem: string };

/** What a kind of round is: the task it sends for a piece, and how it reads an answer. */
export interface RoundSpec<R> {
  readonly kind: 'step' | 'eval';
  /** The answer its tasks get; another type of answer to one of its task ids is stale. */
  readonly answer: TaskAnswer['type'];
  /** The code a refused answer is logged with. */
  readonly refusal: ErrorCode;
  /** Whether answers measure a worker's speed (training; evaluation is lighter and would skew the shares). */
  readonly timesWorkers: boolean;
  /** Log fields naming the round, e.g. its step. */
  readonly context: Readonly<Record<string, unknown>>;
  task(task: TaskId, piece: Piece): Message;
  /** Called only for an answer of type `answer` to a pending task of the worker that holds it. */
  read(answer: TaskAnswer, sender: WorkerRecord): AnswerReading<R>;
}

/** What the pool lends a round: its workers, sends and task ids. */
export interface RoundCrew {
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  send(worker: WorkerRecord, message: Message): void;
  nextTaskId(): TaskId;
  /** Reassignments, for the run's views. */
  event(body: RunEventBody): void;
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
  /** A worker joined: pieces parked for want of workers go out now. */
  workerJoined(): void;
  abort(error: Error): void;
}

/**
 * Runs one round over the live workers: splits its samples by their speeds, sends the tasks, takes each answer once,
 * reassigns what a lost or failing worker held, parks what finds no worker, and resolves with the results in sample
 * order. Task assignment and reclaiming live here (deadlines and backup tasks belong here too).
 */
export class RoundRunner<R> implements RoundInFlight {
  private readonly round: TaskRound<R>;

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
    const verdict = round.complete(answer.taskId, sender.id, answer.sampleCount, reading.result);
    if (verdict !== 'accepted') {
      return { kind: 'refused', code: this.spec.refusal,
        reason: `${answer.type} ${verdict} (${answer.sampleCount} samples for a task of ${expected})` };
    }
    sender.tasks.delete(answer.taskId);
    if (this.spec.timesWorkers && answer.type === 'gradients') this.crew.registry.recordSpeed(sender.id, answer.sampleCount, answer.computeMs);
    return { kind: 'accepted' };
  }

  reclaim(worker: WorkerRecord, tasks: readonly TaskId[], why: string): void {
    const pieces: Piece[] = [];
    for (const t of tasks) {
      if (this.round.workerOf(t) !== worker.id) continue;
      const piece = this.round.reclaim(t);
      worker.tasks.delete(t);
      if (piece) pieces.push(piece);
    }
    if (pieces.length === 0) return;
    this.crew.log.info({ worker: worker.id, pieces: pieces.length, samples: sampleCount(pieces), why }, why === 'departed'
      ? 'reassigning the tasks of a departed worker' : 'reassigning tasks');
    this.crew.event({ kind: 'task-reassigned', from: worker.name, pieces: pieces.length, samples: sampleCount(pieces), round: this.spec.kind });
    this.assign(pieces);
  }

  workerJoined(): void {
    const parked = this.round.takeParked();
    if (parked.length > 0) this.assign(parked);
  }

  abort(error: Error): void {
    this.round.abort(error);
  }

  private assign(pieces: readonly Piece[]): void {
    const workers = this.crew.registry.ready();
    if (workers.length === 0) {
      this.round.park(pieces);
      this.crew.log.warn({ samples: sampleCount(pieces) }, 'no live worker: waiting for one');
      return;
    }
    // A worker's speed is 0 until it has answered once; treat unknown as the mean of the known ones.
    const known = workers.filter((w) => w.speed > 0);
    const fallback = known.length > 0 ? known.reduce((s, w) => s + w.speed, 0) / known.length : 1;
    const capacities: WorkerCapacity[] = workers.map((w) => ({ id: w.id, speed: w.speed > 0 ? w.speed : fallback }));
    for (const piece of pieces) {
      for (const shard of planShards(piece.indices, capacities)) {
        const task = this.crew.nextTaskId();
        const worker = this.crew.registry.get(shard.worker)!;
        const assigned = { offset: piece.offset + shard.offset, indices: shard.indices };
        this.round.assign(task, worker.id, assigned);
        worker.tasks.add(task);
        this.crew.send(worker, this.spec.task(task, assigned));
      }
    }
  }
}

function sampleCount(pieces: readonly Piece[]): number {
  return pieces.reduce((n, p) => n + p.indices.length, 0);
}
