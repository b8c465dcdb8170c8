import type { PeerIdentity } from './peer-identity.js';

/**
 * Who keeps missing deadlines, by worker identity rather than registration, so a straggler's record survives a new
 * hello. Counts misses in a row: an answer in time clears the count. The identity is whatever membership names a
 * worker by (peerIdentity, the same one fault records and hello limits use); this is the one place that counts misses.
 */
export class MissedDeadlines {
  private readonly inARow = new Map<PeerIdentity, number>();

  constructor(private readonly limit: number) {}

  /** Counts a missed deadline; returns the misses in a row and whether the worker is now past the limit. */
  miss(identity: PeerIdentity): { readonly inARow: number; readonly faulty: boolean } {
    const n = (this.inARow.get(identity) ?? 0) + 1;
    this.inARow.set(identity, n);
    return { inARow: n, faulty: n >= this.limit };
  }

  /** An answer within its deadline: the worker is keeping up again. */
  metDeadline(identity: PeerIdentity): void {
    this.inARow.delete(identity);
  }

  /** Whether a worker by this identity is past the limit (refused when it says hello again). */
  faulty(identity: PeerIdentity): boolean {
    return (this.inARow.get(identity) ?? 0) >= this.limit;
  }

  misses(identity: PeerIdentity): number {
    return this.inARow.get(identity) ?? 0;
  }
}
