/** The arithmetic of bench-scale, kept pure so it is tested on its own. */

/**
 * The bandwidth-optimal step (issue 11): compute + 2(N-1)/N x M / B, for M bytes of gradients on links of B bit/s,
 * the least any exchange needs to move a full reduction (ring all-reduce reaches it). Link delays are not in it.
 */
export function boundMs(o: { readonly workers: number; readonly computeMs: number; readonly gradientBytes: number; readonly bitsPerSecond: number }): number {
  return o.computeMs + (2 * (o.workers - 1) / o.workers) * (o.gradientBytes * 8 / o.bitsPerSecond) * 1000;
}

/**
 * Weak-scaling efficiency (each worker keeps its batch): N x per-worker rate / (N x single-worker rate), which is
 * the single worker's step time over the N-worker step time.
 */
export function scalingEfficiency(singleWorkerStepMs: number, stepMs: number): number {
  return singleWorkerStepMs / stepMs;
}

/**
 * The step time of N workers predicted from a measured smaller run of the same link and compute: the part above the
 * compute grows with the workers (it does for a star; a better exchange only makes the guess conservative).
 */
export function predictStepMs(o: { readonly workers: number; readonly computeMs: number; readonly boundMs: number;
  readonly previous?: { readonly workers: number; readonly stepMs: number } }): number {
  if (!o.previous) return o.boundMs;
  const overhead = Math.max(0, o.previous.stepMs - o.computeMs) * (o.workers / o.previous.workers);
  return Math.max(o.boundMs, o.computeMs + overhead);
}

/**
 * How much to slow the clock so this machine's cores do not bound the figure: the smallest whole factor k at which the
 * CPU the run needs per step (cpuMsPerWorkerStep x N, real time) stays under `utilisation` of the cores over the
 * dilated step (k x predicted step).
 */
export function chooseDilation(o: { readonly workers: number; readonly cpuMsPerWorkerStep: number; readonly predictedStepMs: number;
  readonly cores: number; readonly utilisation: number }): number {
  const needed = (o.workers * o.cpuMsPerWorkerStep) / (o.cores * o.utilisation * o.predictedStepMs);
  return Math.max(1, Math.ceil(needed));
}
