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
 * counted exactly once. Results come out ordered by offset, whatever order they arrived in.
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
    this.pending.delete(task);
    this.results.set(pending.offset, result);
    this.covered += sampleCount;
    if (this.covered === this.total) {
      const ordered = [...this.results].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      this.settle?.resolve(ordered);
    }
    return 'accepted';
  }

  /** Takes back a task (its worker was lost or failed it); returns its piece for reassignment. */
  reclaim(task: TaskId): Piece | undefined {
    const pending = this.pending.get(task);
    if (!pending) return undefined;
    this.pending.delete(task);
    return { offset: pending.offset, indices: pending.indices };
  }

  abort(error: Error): void {
    this.settle?.reject(error);
  }
}
