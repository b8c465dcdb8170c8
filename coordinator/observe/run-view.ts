import type { CoordinatorPhase, HeadFigures, RunEvent, RunEventOf, WorkerPhase } from './run-events.js';
import { findStraggler, type Straggler } from './straggler.js';

/**
 * The state the dashboard shows, folded from the event stream. The server keeps one (the snapshot a page loads
 * first) and the page keeps its own copy, fed by the same events, with this same code (it runs in the browser too).
 */
export interface StepPoint {
  readonly globalStep: number;
  readonly epoch: number;
  readonly loss: Readonly<Record<string, number>>;
  readonly accuracy: Readonly<Record<string, number>>;
  readonly learningRate: number;
  readonly lossWeights: Readonly<Record<string, number>>;
  readonly stepMs: number;
}

export interface EpochPoint {
  readonly epoch: number;
  readonly globalStep: number;
  readonly train: readonly HeadFigures[];
  readonly test: readonly HeadFigures[];
  readonly samplesPerSecond: number;
}

export type WorkerRowState = 'ready' | 'lost' | 'left';

export interface WorkerRow {
  readonly name: string;
  id: string;
  host: string;
  pid: number;
  backend: string;
  state: WorkerRowState;
  /** Samples in its shard of the last step it took part in. */
  shardSamples?: number;
  computeMs?: number;
  /** Samples per second of compute: the coordinator's running mean, or the last shard's when none yet. */
  samplesPerSecond?: number;
  /** Time since the coordinator last heard from it, as of the last status. */
  silentMs?: number;
  faults: number;
  /** Refusals of its input seen in this view, by code. */
  refusals: Record<string, number>;
  phases?: Partial<Record<WorkerPhase, number>>;
  /** Steps of the last STRAGGLER_WINDOW in which it was the straggler. */
  straggled: number;
  /** Why it went (an error code), once lost. */
  goneCode?: string;
}

export interface EventLine {
  readonly seq: number;
  readonly at: number;
  readonly kind: RunEvent['kind'];
  readonly text: string;
  readonly worker?: string;
}

export interface RunViewState {
  meta?: RunEventOf<'run-started'>;
  steps: StepPoint[];
  epochs: EpochPoint[];
  workers: WorkerRow[];
  events: EventLine[];
  lastStep?: { globalStep: number; epoch: number; stepInEpoch: number; stepsPerEpoch: number; stepMs: number;
    coordinatorPhases?: Partial<Record<CoordinatorPhase, number>> };
  straggler?: Straggler & { readonly globalStep: number };
  ended?: string;
  resumedAt?: number;
}

export const STRAGGLER_WINDOW = 20;
const MAX_EVENTS = 500;

function figures(heads: readonly HeadFigures[], pick: (h: HeadFigures) => number): Record<string, number> {
  return Object.fromEntries(heads.map((h) => [h.head, pick(h)]));
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function tasksTaken(tasks: number): string {
  return tasks > 0 ? `, ${plural(tasks, 'task')} taken back` : '';
}

/** One line of the events list for an event; undefined for events that are not listed (steps, status, wire). */
export function describeEvent(e: RunEvent): string | undefined {
  switch (e.kind) {
    case 'run-started': return `run started: ${e.model}, ${e.epochs} epochs of ${e.stepsPerEpoch} steps, global batch ${e.globalBatch}`;
    case 'run-ended': return `run ended: ${e.reason}`;
    case 'epoch': return `epoch ${e.epoch + 1} done: test ${e.test.map((h) => `${h.head} ${h.accuracy.toFixed(3)}`).join(', ')}`;
    case 'worker-joined': return `${e.worker} joined (${e.host}, pid ${e.pid}, ${e.backend})`;
    case 'worker-lost': return `${e.worker} lost [${e.code}]${tasksTaken(e.tasks)}`;
    case 'worker-left': return `${e.worker} left${tasksTaken(e.tasks)}`;
    case 'task-reassigned': return `${e.samples} samples of ${e.from} (${plural(e.pieces, 'piece')}, ${e.round} round) reassigned`;
    case 'input-refused': return `refused input${e.worker ? ` from ${e.worker}` : ''} [${e.code}]: ${e.reason}`;
    case 'checkpoint-written': return `checkpoint at epoch ${e.epoch + 1}, step ${e.stepInEpoch} (global ${e.globalStep})`;
    case 'resumed': return `resumed at epoch ${e.epoch + 1}, step ${e.stepInEpoch} (global ${e.globalStep})`;
    case 'step':
    case 'worker-status':
    case 'wire':
      return undefined;
  }
}

export class RunView {
  readonly state: RunViewState;
  /** Straggler of each of the last STRAGGLER_WINDOW steps (undefined: no straggler that step). */
  private recentStragglers: (string | undefined)[] = [];

  constructor(from?: RunViewState) {
    this.state = from ?? { steps: [], epochs: [], workers: [], events: [] };
  }

  observe(e: RunEvent): void {
    const text = describeEvent(e);
    if (text !== undefined) {
      const worker = 'worker' in e && typeof e.worker === 'string' ? e.worker : e.kind === 'task-reassigned' ? e.from : undefined;
      this.state.events.push({ seq: e.seq, at: e.at, kind: e.kind, text, ...(worker !== undefined ? { worker } : {}) });
      if (this.state.events.length > MAX_EVENTS) this.state.events.splice(0, this.state.events.length - MAX_EVENTS);
    }
    switch (e.kind) {
      case 'run-started': this.state.meta = e; return;
      case 'run-ended': this.state.ended = e.reason; return;
      case 'resumed': this.state.resumedAt = e.globalStep; return;
      case 'step': this.step(e); return;
      case 'epoch':
        this.state.epochs.push({ epoch: e.epoch, globalStep: e.globalStep, train: e.train, test: e.test, samplesPerSecond: e.samplesPerSecond });
        return;
      case 'worker-joined': {
        const row = this.row(e.worker);
        Object.assign(row, { id: e.id, host: e.host, pid: e.pid, backend: e.backend, state: 'ready' });
        delete row.goneCode;
        delete row.silentMs;
        return;
      }
      case 'worker-lost': Object.assign(this.row(e.worker), { state: 'lost', goneCode: e.code }); return;
      case 'worker-left': this.row(e.worker).state = 'left'; return;
      case 'input-refused':
        if (e.worker !== undefined) {
          const row = this.row(e.worker);
          row.refusals[e.code] = (row.refusals[e.code] ?? 0) + 1;
        }
        return;
      case 'worker-status':
        for (const s of e.workers) Object.assign(this.row(s.worker), { silentMs: s.silentMs, faults: s.faults,
          ...(s.samplesPerSecond > 0 ? { samplesPerSecond: s.samplesPerSecond } : {}) });
        return;
      case 'task-reassigned':
      case 'checkpoint-written':
      case 'wire':
        return;
    }
  }

  private step(e: RunEventOf<'step'>): void {
    this.state.steps.push({ globalStep: e.globalStep, epoch: e.epoch, loss: figures(e.heads, (h) => h.loss),
      accuracy: figures(e.heads, (h) => h.accuracy), learningRate: e.learningRate, lossWeights: e.lossWeights, stepMs: e.stepMs });
    this.state.lastStep = { globalStep: e.globalStep, epoch: e.epoch, stepInEpoch: e.stepInEpoch, stepsPerEpoch: e.stepsPerEpoch,
      stepMs: e.stepMs, ...(e.coordinatorPhases ? { coordinatorPhases: e.coordinatorPhases } : {}) };
    const shards = e.shards ?? [];
    const perWorker = new Map<string, { samples: number; computeMs: number; phases?: Partial<Record<WorkerPhase, number>> }>();
    for (const s of shards) {
      const sum = perWorker.get(s.worker) ?? { samples: 0, computeMs: 0 };
      perWorker.set(s.worker, { samples: sum.samples + s.samples, computeMs: sum.computeMs + s.computeMs, ...(s.phases ? { phases: s.phases } : {}) });
    }
    for (const [name, s] of perWorker) {
      const row = this.row(name);
      Object.assign(row, { shardSamples: s.samples, computeMs: s.computeMs, ...(s.phases ? { phases: s.phases } : {}) });
      if (row.samplesPerSecond === undefined && s.computeMs > 0) row.samplesPerSecond = (s.samples * 1000) / s.computeMs;
    }
    const straggler = findStraggler(shards);
    if (straggler) this.state.straggler = { ...straggler, globalStep: e.globalStep };
    this.recentStragglers.push(straggler?.worker);
    if (this.recentStragglers.length > STRAGGLER_WINDOW) this.recentStragglers.shift();
    for (const row of this.state.workers) row.straggled = this.recentStragglers.filter((w) => w === row.name).length;
  }

  private row(name: string): WorkerRow {
    let row = this.state.workers.find((w) => w.name === name);
    if (!row) {
      row = { name, id: '', host: '', pid: 0, backend: '', state: 'ready', faults: 0, refusals: {}, straggled: 0 };
      this.state.workers.push(row);
    }
    return row;
  }
}
