import type { StepInfo } from '../../coordinator/coordinator.js';

/** Where the progress line is drawn: a terminal (stdout when isTTY). */
export interface ProgressSink {
  write(text: string): unknown;
  readonly columns?: number;
}

/** Redraws at most this often, so a fast run does not flood the terminal. */
const REDRAW_MS = 100;
const CLEAR = '\r\x1b[2K';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The text of one progress line for the epoch so far. Pure, for tests. */
export function formatProgress(p: { epoch: number; epochs: number; step: number; steps: number; samplesPerSecond: number;
  losses: readonly (readonly [string, number])[]; etaSeconds: number; workers: number }, width = 100): string {
  const barWidth = 12;
  const filled = Math.round((p.step / Math.max(1, p.steps)) * barWidth);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  const losses = p.losses.map(([h, l]) => `${h} ${l.toFixed(3)}`).join(' ');
  // Most important first: a narrow terminal cuts the losses, not the ETA.
  const line = `epoch ${p.epoch + 1}/${p.epochs} ${bar} ${p.step}/${p.steps}  ETA ${duration(p.etaSeconds)}  ${p.samplesPerSecond.toFixed(0)} samples/s  ${p.workers} workers  loss ${losses}`;
  return line.length > width ? line.slice(0, Math.max(10, width - 1)) : line;
}

/**
 * A live progress line per epoch, redrawn in place with \r: step/steps, samples/s, the epoch's running per-head
 * training loss, the epoch's ETA and the live worker count. Cleared after the epoch's last step, so the epoch's
 * result line that follows starts on a clean line.
 */
export class ProgressLine {
  private epoch = -1;
  private epochStart = 0;
  private samples = 0;
  private lastDraw = 0;
  private sums = new Map<string, { loss: number; count: number }>();

  constructor(private readonly sink: ProgressSink, private readonly epochs: number, private readonly now: () => number = () => performance.now()) {}

  step(info: StepInfo): void {
    const now = this.now();
    if (info.epoch !== this.epoch || info.stepInEpoch === 1) {
      this.epoch = info.epoch;
      this.epochStart = now - info.stepMs;
      this.samples = 0;
      this.sums = new Map();
    }
    this.samples += info.samples;
    for (const h of info.heads) {
      const s = this.sums.get(h.head) ?? { loss: 0, count: 0 };
      s.loss += h.lossSum;
      s.count += h.count;
      this.sums.set(h.head, s);
    }
    const last = info.stepInEpoch >= info.stepsPerEpoch;
    if (last) {
      this.clear();
      return;
    }
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const seconds = (now - this.epochStart) / 1000;
    const perStep = seconds / Math.max(1, info.stepInEpoch);
    this.sink.write(CLEAR + formatProgress({ epoch: info.epoch, epochs: this.epochs, step: info.stepInEpoch, steps: info.stepsPerEpoch,
      samplesPerSecond: this.samples / Math.max(1e-9, seconds),
      losses: [...this.sums].map(([h, s]) => [h, s.loss / Math.max(1, s.count)] as const),
      etaSeconds: perStep * (info.stepsPerEpoch - info.stepInEpoch), workers: info.workers }, (this.sink.columns ?? 120) - 1));
  }

  clear(): void {
    this.sink.write(CLEAR);
  }
}
