import type { RunEventOf } from './run-events.js';

/**
 * The coordinator's phases of a step: the measured ones when the step carries them, otherwise the two that the
 * shard arrival times give: waiting for the last shard, then reduce + optimizer + broadcast.
 */
export function coordinatorPhases(e: RunEventOf<'step'>): Record<string, number> {
  if (e.coordinatorPhases) return Object.fromEntries(Object.entries(e.coordinatorPhases).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));
  const shards = e.shards ?? [];
  if (shards.length === 0) return {};
  const start = e.at - e.stepMs;
  const lastArrival = Math.max(...shards.map((s) => s.arrivedAtMs));
  return { wait_shards: Math.max(0, lastArrival - start), update: Math.max(0, e.at - lastArrival) };
}
