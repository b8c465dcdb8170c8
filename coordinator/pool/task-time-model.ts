/** A worker's task time as a fixed cost per task plus a cost per sample. */
export interface TaskTimeFit {
  readonly fixedMs: number;
  readonly perSampleMs: number;
}

/** One answered task: how many samples it held and how long the worker took, as the coordinator saw it. */
export interface TaskTiming {
  readonly samples: number;
  readonly ms: number;
}

export function predictTaskMs(fit: TaskTimeFit, samples: number): number {
  return fit.fixedMs + fit.perSampleMs * samples;
}

/** Weight of an observation one step older than the next: recent tasks dominate, older ones steady the fit. */
const DECAY = 0.85;
/** Below this spread of shard sizes (relative to their mean) a slope is mostly noise. */
const MIN_RELATIVE_SPREAD = 0.15;
/** A per-sample cost is never planned as zero: a worker would be handed every sample. */
const MIN_PER_SAMPLE_MS = 1e-6;

/**
 * Fits time = fixedMs + perSampleMs x samples by least squares, weighting recent timings more (oldest first in
 * `timings`). Fallbacks, in order: shard sizes too alike to tell a fixed cost from a per-sample one -> keep
 * `knownSlope` (from an earlier, better spread window) and fit only the fixed cost; no slope known, a negative
 * fixed cost or a non-positive slope -> a line through the origin (time proportional to samples). Pure.
 */
export function fitTaskTime(timings: readonly TaskTiming[], knownSlope?: number): TaskTimeFit | undefined {
  const usable = timings.filter((t) => t.samples > 0 && t.ms > 0 && Number.isFinite(t.ms));
  if (usable.length === 0) return undefined;
  let w = 0, sn = 0, st = 0;
  usable.forEach((t, i) => {
    const weight = DECAY ** (usable.length - 1 - i);
    w += weight;
    sn += weight * t.samples;
    st += weight * t.ms;
  });
  const meanN = sn / w;
  const meanT = st / w;
  let snn = 0, snt = 0, sxx = 0;
  let lo = Infinity, hi = -Infinity;
  usable.forEach((t, i) => {
    const weight = DECAY ** (usable.length - 1 - i);
    snn += weight * t.samples * t.samples;
    snt += weight * t.samples * t.ms;
    sxx += weight * (t.samples - meanN) * (t.samples - meanN);
    lo = Math.min(lo, t.samples);
    hi = Math.max(hi, t.samples);
  });
  const throughOrigin = (): TaskTimeFit => ({ fixedMs: 0, perSampleMs: Math.max(MIN_PER_SAMPLE_MS, snt / snn) });
  if (hi - lo < MIN_RELATIVE_SPREAD * meanN) {
    if (knownSlope === undefined || !(knownSlope > 0)) return throughOrigin();
    return { fixedMs: Math.max(0, meanT - knownSlope * meanN), perSampleMs: knownSlope };
  }
  let sxt = 0;
  usable.forEach((t, i) => {
    sxt += DECAY ** (usable.length - 1 - i) * (t.samples - meanN) * (t.ms - meanT);
  });
  const slope = sxt / sxx;
  const fixed = meanT - slope * meanN;
  if (!(slope > 0) || fixed < 0) return throughOrigin();
  return { fixedMs: fixed, perSampleMs: Math.max(MIN_PER_SAMPLE_MS, slope) };
}

/** Timings kept per worker and kind of task. */
const WINDOW = 16;
/** A timing this many times off the prediction means the worker changed (warmed up, slowed, throttled). */
const CHANGE_FACTOR = 2.5;

/**
 * A worker's task times over a sliding window, refitted on each new timing. A timing far off the current fit
 * (CHANGE_FACTOR either way, judged only where the fit has seen similar sizes or knows a slope) starts the window afresh, so a worker that slows down (or finishes warming up) is
 * planned by what it does now within one answer, not after a window's worth.
 */
export class TaskTimeModel {
  private readonly timings: TaskTiming[] = [];
  private slope: number | undefined;
  private current: TaskTimeFit | undefined;

  get fit(): TaskTimeFit | undefined {
    return this.current;
  }

  observe(samples: number, ms: number): void {
    if (!(samples > 0) || !(ms > 0) || !Number.isFinite(ms)) return;
    // A fit through one size says little about another: only judge a timing by a fit that covers its size.
    if (this.current && (this.slope !== undefined || this.covers(samples))) {
      const ratio = ms / predictTaskMs(this.current, samples);
      if (ratio > CHANGE_FACTOR || ratio < 1 / CHANGE_FACTOR) {
        // Same shape, another pace: the old per-sample cost scaled by the change seeds the new window.
        this.timings.length = 0;
        this.slope = this.current.fixedMs > 0 ? this.current.perSampleMs * ratio : undefined;
      }
    }
    this.timings.push({ samples, ms });
    if (this.timings.length > WINDOW) this.timings.shift();
    const fit = fitTaskTime(this.timings, this.slope);
    // Remember a slope measured from well-spread sizes; it outlives windows where every shard had the same size.
    if (fit && fit.fixedMs > 0 && spread(this.timings) >= MIN_RELATIVE_SPREAD) this.slope = fit.perSampleMs;
    this.current = fit;
  }

  private covers(samples: number): boolean {
    const sizes = this.timings.map((t) => t.samples);
    return samples >= (1 - MIN_RELATIVE_SPREAD) * Math.min(...sizes) && samples <= (1 + MIN_RELATIVE_SPREAD) * Math.max(...sizes);
  }
}

function spread(timings: readonly TaskTiming[]): number {
  const sizes = timings.map((t) => t.samples);
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  return (Math.max(...sizes) - Math.min(...sizes)) / mean;
}
