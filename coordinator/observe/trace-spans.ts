import { COORDINATOR_PHASES } from '../../shared/common/phase-times.js';
import { WORKER_PHASE_ORDER, type RunEventOf, type WorkerPhase } from './run-events.js';
import { coordinatorPhases } from './step-phases.js';

/** A span on one track of the timeline: `track` is 'coordinator' or a worker's name; times in ms since the epoch. */
export interface Span {
  readonly track: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly args?: Readonly<Record<string, number | string | boolean>>;
}

/** Phases a worker runs before its answer arrives (laid out back to back, ending at the arrival). */
const BEFORE_ARRIVAL: readonly WorkerPhase[] = WORKER_PHASE_ORDER.filter((p) => p !== 'decode' && p !== 'upload' && p !== 'wait');
/** Phases a worker runs once the step's weights are broadcast (laid out from the step's end). */
const AFTER_BROADCAST: readonly WorkerPhase[] = ['decode', 'upload'];

function backToBack(track: string, phases: readonly [string, number][], startMs: number, args?: Span['args']): Span[] {
  const spans: Span[] = [];
  let at = startMs;
  for (const [name, ms] of phases) {
    spans.push({ track, name, startMs: at, durationMs: ms, ...(args ? { args } : {}) });
    at += ms;
  }
  return spans;
}

function present<P extends string>(order: readonly P[], phases: Partial<Readonly<Record<P, number>>>): [P, number][] {
  return order.flatMap((p) => (typeof phases[p] === 'number' ? [[p, phases[p]] as [P, number]] : []));
}

/**
 * The spans of one step: on the coordinator's track the step and its phases, on each worker's track its phases.
 * Without a worker's phase timers only its compute is known: it is drawn ending when its answer arrived (so it
 * includes nothing of the wire) and marked `approximate`.
 */
export function stepSpans(e: RunEventOf<'step'>): Span[] {
  const start = e.at - e.stepMs;
  const spans: Span[] = [{ track: 'coordinator', name: `step ${e.globalStep}`, startMs: start, durationMs: e.stepMs,
    args: { epoch: e.epoch, step: e.stepInEpoch, samples: e.samples, workers: e.workers } }];
  const phases = coordinatorPhases(e);
  if (e.coordinatorPhases) {
    const measured = present(COORDINATOR_PHASES, e.coordinatorPhases);
    spans.push(...backToBack('coordinator', measured, e.at - measured.reduce((s, [, ms]) => s + ms, 0)));
  } else if (phases['wait_shards'] !== undefined && phases['update'] !== undefined) {
    spans.push({ track: 'coordinator', name: 'wait for shards', startMs: start, durationMs: phases['wait_shards'] },
      { track: 'coordinator', name: 'reduce + optimizer + broadcast', startMs: start + phases['wait_shards'], durationMs: phases['update'] });
  }
  for (const s of e.shards ?? []) {
    const args = { samples: s.samples, step: e.globalStep };
    if (s.phases) {
      const before = present(BEFORE_ARRIVAL, s.phases);
      spans.push(...backToBack(s.worker, before, s.arrivedAtMs - before.reduce((sum, [, ms]) => sum + ms, 0), args),
        ...backToBack(s.worker, present(AFTER_BROADCAST, s.phases), e.at, args));
    } else {
      spans.push({ track: s.worker, name: 'compute', startMs: s.arrivedAtMs - s.computeMs, durationMs: s.computeMs,
        args: { ...args, approximate: true } });
    }
  }
  return spans;
}
