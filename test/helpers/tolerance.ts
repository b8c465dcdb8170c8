/**
 * The tolerance measure of every equivalence test: max |a - b| / max |b| over a tensor (the absolute difference
 * when b is all zeros). Float32 results that differ only in summation order agree to ~1e-6 by this measure.
 */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? 0)));
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The worst relativeError over two lists of tensors in the same order. */
export function maxRelativeDifference(a: readonly { data: Float32Array }[], b: readonly { data: Float32Array }[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  return a.reduce((worst, t, i) => Math.max(worst, relativeError(t.data, b[i]!.data)), 0);
}
