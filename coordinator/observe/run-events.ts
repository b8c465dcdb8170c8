/**
 * The one stream of what happens in a run, as the dashboard, /metrics, the step timeline, TensorBoard and
 * events.jsonl see it. The coordinator emits into a RunEventSink; RunEventBus stamps each event and fans it out.
 *
 * This file imports nothing at run time: the dashboard page loads its compiled form in the browser.
 */

import type { CoordinatorPhase } from '../../shared/common/phase-times.js';

export type { CoordinatorPhase };

/** A worker's step phases, in milliseconds (issue 10 adds the timers; every field is optional until then). */
export type WorkerPhase = 'gather' | 'compute' | 'readBack' | 'encode' | 'send' | 'wire' | 'decode' | 'upload' | 'wait';
/** Worker phases in the order they happen within a step; a timeline lays them out in this order. */
export const WORKER_PHASE_ORDER: readonly WorkerPhase[] = ['gather', 'compute', 'readBack', 'encode', 'send', 'wire', 'decode', 'upload', 'wait'];

/** One worker's part of a step: what it computed and when its answer arrived. */
export interface ShardReport {
  /** The worker's name (as it said hello); names label the dashboard rows and the `worker` metric label. */
  readonly worker: string;
  readonly samples: number;
  /** Compute time the worker reported: measured before the step's barrier, so it names the straggler. */
  readonly computeMs: number;
  /** When the coordinator accepted the answer (ms since the Unix epoch, sub-ms precision). */
  readonly arrivedAtMs: number;
  readonly phases?: Partial<Readonly<Record<WorkerPhase, number>>>;
}

export interface HeadFigures {
  readonly head: string;
  readonly loss: number;
  readonly accuracy: number;
}

export type RunEventBody =
  | { readonly kind: 'run-started'; readonly model: string; readonly epochs: number; readonly stepsPerEpoch: number;
    readonly globalBatch: number; readonly heads: readonly string[]; readonly runDir?: string }
  | { readonly kind: 'run-ended'; readonly reason: string }
  | { readonly kind: 'step'; readonly epoch: number; readonly stepInEpoch: number; readonly stepsPerEpoch: number;
    readonly globalStep: number; readonly samples: number; readonly stepMs: number; readonly learningRate: number;
    readonly lossWeights: Readonly<Record<string, number>>; readonly heads: readonly HeadFigures[];
    readonly workers: number; readonly shards?: readonly ShardReport[];
    readonly coordinatorPhases?: Partial<Readonly<Record<CoordinatorPhase, number>>> }
  | { readonly kind: 'epoch'; readonly epoch: number; readonly globalStep: number; readonly train: readonly HeadFigures[];
    readonly test: readonly HeadFigures[]; readonly samplesPerSecond: number; readonly wallMs: number; readonly workers: number }
  | { readonly kind: 'worker-joined'; readonly worker: string; readonly id: string; readonly host: string; readonly pid: number;
    readonly backend: string }
  | { readonly kind: 'worker-lost'; readonly worker: string; readonly id: string; readonly code: string; readonly tasks: number }
  | { readonly kind: 'worker-left'; readonly worker: string; readonly id: string; readonly tasks: number }
  | { readonly kind: 'task-reassigned'; readonly from: string; readonly pieces: number; readonly samples: number; readonly round: string }
  | { readonly kind: 'input-refused'; readonly code: string; readonly reason: string; readonly worker?: string }
  | { readonly kind: 'checkpoint-written'; readonly epoch: number; readonly stepInEpoch: number; readonly globalStep: number }
  | { readonly kind: 'resumed'; readonly epoch: number; readonly stepInEpoch: number; readonly globalStep: number }
  /** Every heartbeat interval: each live worker's silence, faults and speed (not logged to events.jsonl). */
  | { readonly kind: 'worker-status'; readonly workers: readonly { readonly worker: string; readonly silentMs: number;
    readonly faults: number; readonly samplesPerSecond: number }[] }
  /** One frame on the coordinator's socket (for byte counters; not logged to events.jsonl). */
  | { readonly kind: 'wire'; readonly direction: 'in' | 'out'; readonly bytes: number; readonly worker?: string };

export type RunEventKind = RunEventBody['kind'];
/** Every kind, once (the `satisfies` makes the compiler insist on each). */
export const RUN_EVENT_KINDS: ReadonlySet<string> = new Set(Object.keys({ 'run-started': true, 'run-ended': true, step: true, epoch: true,
  'worker-joined': true, 'worker-lost': true, 'worker-left': true, 'task-reassigned': true, 'input-refused': true,
  'checkpoint-written': true, resumed: true, 'worker-status': true, wire: true } satisfies Record<RunEventKind, true>));
/** An event as listeners get it: numbered in emission order and stamped with the wall clock (ms since the epoch). */
export type RunEvent = RunEventBody & { readonly seq: number; readonly at: number };
export type RunEventOf<K extends RunEventKind> = Extract<RunEvent, { kind: K }>;

/** Where the coordinator sends its events. */
export interface RunEventSink {
  emit(event: RunEventBody): void;
}

export type RunEventListener = (event: RunEvent) => void;

/** Events frequent enough that only live views take them (not events.jsonl, not the dashboard's events list). */
export const HIGH_RATE_KINDS: ReadonlySet<RunEventKind> = new Set(['worker-status', 'wire']);

/** Wall clock with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Stamps and fans out events, synchronously and in order. A listener that throws is reported to `onListenerError`
 * and does not stop the others: a broken view must never break training.
 */
export class RunEventBus implements RunEventSink {
  private readonly listeners = new Set<RunEventListener>();
  private seq = 0;

  constructor(private readonly onListenerError: (error: unknown, event: RunEvent) => void = () => undefined) {}

  emit(event: RunEventBody): void {
    this.seq += 1;
    const stamped = { ...event, seq: this.seq, at: nowMs() };
    for (const listener of this.listeners) {
      try {
        listener(stamped);
      } catch (error) {
        this.onListenerError(error, stamped);
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
