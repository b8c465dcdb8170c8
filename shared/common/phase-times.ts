/**
 * Where a step's time goes, phase by phase: milliseconds per named phase. Timers are performance.now() stamps in
 * the real code path (a PhaseClock per task or step); workers send theirs with each answer and the coordinator
 * assembles the step's breakdown (coordinator/trainer/step-breakdown.ts).
 */
export type PhaseTimes = Readonly<Record<string, number>>;

/**
 * A worker's phases, in the order they happen: the weights or update it took since its last answer (decoding, the
 * replica's optimizer step in the factored exchange, uploading), then the task.
 */
export const WORKER_PHASES = ['decode', 'optimizer', 'upload', 'gather', 'compute', 'readBack', 'encode', 'send'] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];

/** The coordinator's phases of a step: reading the answers, then making and delivering the next weights. */
export const COORDINATOR_PHASES = ['decode', 'check', 'reduce', 'optimizer', 'encode', 'broadcast'] as const;
export type CoordinatorPhase = (typeof COORDINATOR_PHASES)[number];

/** Every phase of a step's breakdown, in step order; they add up to the step's time. */
export const STEP_PHASES: readonly string[] = [
  ...WORKER_PHASES.map((p) => `worker.${p}`), 'wire', ...COORDINATOR_PHASES.map((p) => `coordinator.${p}`), 'waiting',
];

/** The most phases, and the longest name, accepted from the wire. */
export const MAX_WIRE_PHASES = 32;
export const MAX_PHASE_NAME = 40;

/** Accumulates time per phase between stamps: `lap(name)` charges the time since the previous stamp to `name`. */
export class PhaseClock {
  private last = performance.now();
  private readonly times: Record<string, number> = {};

  /** Starts the next lap now without charging the time since the previous stamp to anything. */
  restart(): void {
    this.last = performance.now();
  }

  lap(name: string): void {
    const now = performance.now();
    this.times[name] = (this.times[name] ?? 0) + (now - this.last);
    this.last = now;
  }

  /** Adds time measured elsewhere to a phase. */
  add(name: string, ms: number): void {
    this.times[name] = (this.times[name] ?? 0) + ms;
  }

  read(): PhaseTimes {
    return { ...this.times };
  }
}

/** The sum of phase times, phase by phase. */
export function addPhases(...all: readonly PhaseTimes[]): PhaseTimes {
  const out: Record<string, number> = {};
  for (const times of all) for (const [name, ms] of Object.entries(times)) out[name] = (out[name] ?? 0) + ms;
  return out;
}

/** Each phase times `factor` (1 / steps: the mean per step of a sum over the steps). */
export function scalePhases(times: PhaseTimes, factor: number): PhaseTimes {
  return Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, ms * factor]));
}

export function totalMs(times: PhaseTimes): number {
  return Object.values(times).reduce((s, ms) => s + ms, 0);
}

/** Rounded to 0.01 ms, for records and tables. */
export function roundPhases(times: PhaseTimes): PhaseTimes {
  return Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, Math.round(ms * 100) / 100]));
}
