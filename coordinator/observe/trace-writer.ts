import { writeFileAtomic } from '../../shared/common/atomic-file.js';
import type { RunEvent } from './run-events.js';
import { stepSpans, type Span } from './trace-spans.js';

/** The steps to trace, inclusive, as global step numbers (the first step is 1). */
export interface StepRange {
  readonly from: number;
  readonly to: number;
}

/** One entry of Chrome's trace event format (the JSON object form), as chrome://tracing and Perfetto read it. */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Readonly<Record<string, unknown>>;
}

const PID = 1;

/** Spans as trace events: the coordinator's track first, then one per worker in order of first appearance. */
export function traceDocument(spans: readonly Span[]): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms' } {
  const origin = Math.min(...spans.map((s) => s.startMs));
  const tracks = ['coordinator', ...new Set(spans.map((s) => s.track).filter((t) => t !== 'coordinator'))];
  const tid = new Map(tracks.map((t, i) => [t, i]));
  const meta: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: 'omniglot-ddp run' } },
    ...tracks.flatMap((t, i): TraceEvent[] => [
      { name: 'thread_name', ph: 'M', pid: PID, tid: i, args: { name: t } },
      { name: 'thread_sort_index', ph: 'M', pid: PID, tid: i, args: { sort_index: i } },
    ])];
  const events = spans.map((s): TraceEvent => ({ name: s.name, cat: s.track === 'coordinator' ? 'coordinator' : 'worker', ph: 'X', pid: PID,
    tid: tid.get(s.track) ?? 0, ts: Math.round((s.startMs - origin) * 1000), dur: Math.max(0, Math.round(s.durationMs * 1000)),
    ...(s.args ? { args: s.args } : {}) }));
  return { traceEvents: [...meta, ...events], displayTimeUnit: 'ms' };
}

/**
 * Collects the spans of the steps in `range` and writes them as one trace file once the range's last step is done
 * (or at close, with what it has, when the run ended before).
 */
export class TraceRecorder {
  private readonly spans: Span[] = [];
  private state: 'collecting' | 'written' = 'collecting';
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(private readonly range: StepRange, readonly file: string, private readonly onWritten: (file: string, steps: number) => void = () => undefined) {}

  observe(e: RunEvent): void {
    if (e.kind !== 'step' || this.state !== 'collecting') return;
    if (e.globalStep >= this.range.from && e.globalStep <= this.range.to) this.spans.push(...stepSpans(e));
    if (e.globalStep >= this.range.to) this.write();
  }

  /** Writes what was collected, if not yet written; resolves when the file is on disk. @throws the fs error. */
  async close(): Promise<void> {
    this.write();
    await this.pending;
    if (this.failure !== undefined) throw this.failure;
  }

  private write(): void {
    if (this.state === 'written' || this.spans.length === 0) return;
    this.state = 'written';
    const steps = this.spans.filter((s) => s.track === 'coordinator' && s.name.startsWith('step ')).length;
    const text = JSON.stringify(traceDocument(this.spans));
    this.pending = writeFileAtomic(this.file, [Buffer.from(text)])
      .then(() => this.onWritten(this.file, steps), (error: unknown) => {
        this.failure = error;
      });
  }
}
