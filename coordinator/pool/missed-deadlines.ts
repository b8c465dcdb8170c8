import { peerIdentity } from './peer-identity.js';

/**
 * Who keeps missing deadlines, by worker identity rather than registration, so a straggler's record survives a new
 * hello. Counts misses in a row: an answer in time clears the count. The identity is whatever membership names a
 * worker by (see `workerIdentity`); this is the one place that counts misses.
 */
export class MissedDeadlines {
  private readonly inARow = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts a missed deadline; returns the misses in a row and whether the worker is now past the limit. */
  miss(identity: string): { readonly inARow: number; readonly faulty: boolean } {
    const n = (this.inARow.get(identity) ?? 0) + 1;
    this.inARow.set(identity, n);
    return { inARow: n, faulty: n >= this.limit };
  }

  /** An answer within its deadline: the worker is keeping up again. */
  metDeadline(identity: string): void {
    this.inARow.delete(identity);
  }

  /** Whether a worker by this identity is past the limit (refused when it says hello again). */
  faulty(identity: string): boolean {
    return (this.inARow.get(identity) ?? 0) >= this.limit;
  }

  misses(identity: string): number {
    return this.inARow.get(identity) ?? 0;
  }
}

/**
 * A worker's identity for fault records, from its hello: host, pid and name. Self-reported, so a stand-in until
 * membership keys records by CURVE key; the name is included because in-process workers share a host and pid.
 */
/** The identity misses are counted against: the same one the fault records and hello limits use (peer-identity.ts). */
export function workerIdentity(w: { readonly host: string; readonly pid: number; readonly name: string }): string {
  return peerIdentity(w);
}
