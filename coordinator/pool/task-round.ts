import type { TaskId, WorkerId } from '../../shared/protocol/ids.js';

/** A contiguous part of a round's samples, at `offset` within the round. */
export interface Piece {
  readonly offset: number;
  readonly indices: Uint32Array;
}

interface PendingTask extends Piece {
  readonly worker: WorkerId;
}

export type CompletionVerdict = 'accepted' | 'unknown-task' | 'wrong-worker' | 'wrong-count';

/**
 * The samples of one training step or one evaluation, spread over tasks. Tracks which task holds which piece, takes
 * each piece's result once, and hands back the pieces of a lost worker for reassignment, so every sample is
 * counted exactly once. A piece may be held by several tasks at once (a straggler's and its backup's): the first
 * complete answer is its result and the others are withdrawn. Results come out ordered by offset, whatever order
 * they arrived in, so the sum over a round does not depend on who answered first.
 */
export class TaskRound<R> {
  private readonly pending = new Map<TaskId, PendingTask>();
  private readonly results = new Map<number, R>();
  private readonly waiting: Piece[] = [];
  private covered = 0;
  private settle: { resolve: (results: R[]) => void; reject: (error: Error) => void } | undefined;
  /** Resolves with the results in offset order once every sample is covered. */
  readonly finished: Promise<R[]>;

  constructor(readonly kind: 'step' | 'eval', readonly total: number) {
    this.finished = new Promise<R[]>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A round abandoned by stop() must not surface as an unhandled rejection.
    this.finished.catch(() => undefined);
    if (total === 0) this.settle?.resolve([]);
  }

  assign(task: TaskId, worker: WorkerId, piece: Piece): void {
    this.pending.set(task, { ...piece, worker });
  }

  /** Pieces that found no worker; assigned again when one joins. */
  park(pieces: readonly Piece[]): void {
    this.waiting.push(...pieces);
  }

  takeParked(): Piece[] {
    return this.waiting.splice(0, this.waiting.length);
  }

  /** A second task for the piece `task` holds; the piece keeps its offset, so its result lands in the same place. */
  assignBackup(task: TaskId, of: TaskId, worker: WorkerId): Piece | undefined {
    const original = this.pending.get(of);
    if (!original) return undefined;
    this.pending.set(task, { offset: original.offset, indices: original.indices, worker });
    return { offset: original.offset, indices: original.indices };
  }

  /** The pending tasks that hold the same piece as `task`, itself included. */
  attempts(task: TaskId): TaskId[] {
    const offset = this.pending.get(task)?.offset;
    return offset === undefined ? [] : [...this.pending].filter(([, p]) => p.offset === offset).map(([t]) => t);
  }

  /** Pending tasks held by `worker`. */
  tasksOf(worker: WorkerId): TaskId[] {
    return [...this.pending].filter(([, p]) => p.worker === worker).map(([t]) => t);
  }

  holds(task: TaskId): boolean {
    return this.pending.has(task);
  }

  workerOf(task: TaskId): WorkerId | undefined {
    return this.pending.get(task)?.worker;
  }

  expectedCount(task: TaskId): number | undefined {
    return this.pending.get(task)?.indices.length;
  }

  complete(task: TaskId, worker: WorkerId, sampleCount: number, result: R): CompletionVerdict {
    const pending = this.pending.get(task);
    if (!pending) return 'unknown-task';
    if (pending.worker !== worker) return 'wrong-worker';
    if (pending.indices.length !== sampleCount) return 'wrong-count';
    // Withdraw the other attempts at this piece: their answers are stale from now on.
    for (const [t, p] of this.pending) if (p.offset === pending.offset) this.pending.delete(t);
    this.results.set(pending.offset, result);
    this.covered += sampleCount;
    if (this.covered === this.total) {
      const ordered = [...this.results].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      this.settle?.resolve(ordered);
    }
    return 'accepted';
  }

  /**
   * Takes back a task (its worker was lost or failed it); returns its piece for reassignment, unless another task
   * still holds the piece.
   */
  reclaim(task: TaskId): Piece | undefined {
    const pending = this.pending.get(task);
    if (!pending) return undefined;
    this.pending.delete(task);
    if ([...this.pending.values()].some((p) => p.offset === pending.offset)) return undefined;
    return { offset: pending.offset, indices: pending.indices };
  }

  abort(error: Error): void {
    this.settle?.reject(error);
  }
}
