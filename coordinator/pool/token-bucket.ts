/**
 * A token bucket: up to `capacity` events at once, refilled at `perSecond`. Pure arithmetic on the caller's clock,
 * so the rate limits built on it are tested without waiting.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(private readonly capacity: number, private readonly perSecond: number, nowMs: number) {
    this.tokens = capacity;
    this.lastMs = nowMs;
  }

  /** Takes one token if there is one; false when the caller is over the rate. */
  take(nowMs: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, nowMs - this.lastMs) / 1000 * this.perSecond);
    this.lastMs = Math.max(this.lastMs, nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
