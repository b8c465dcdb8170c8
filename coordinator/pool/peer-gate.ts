import type { ErrorCode } from '../../shared/common/errors.js';
import type { PeerIdentity } from './peer-identity.js';
import { TokenBucket } from './token-bucket.js';

export interface PeerGateOptions {
  /** Bad messages an identity may send in the whole run; past it, it is disconnected and may not rejoin. */
  readonly maxFaults: number;
  /** Hellos at once, then per second, per identity and per connection. */
  readonly helloBurst: number;
  readonly hellosPerSecond: number;
  /** Identities and connections remembered; the oldest are forgotten past it, so a flood cannot grow memory. */
  readonly maxTracked: number;
}

/**
 * Ten hellos at once, then one every two seconds: an honest worker says hello once, and again when it was declared
 * lost (a loaded machine may do that often) or after ten seconds of coordinator silence, so only a peer that
 * re-registers in a loop meets the limit. A worker refused for the rate tries again after a silence (worker/).
 */
export const DEFAULT_GATE: Omit<PeerGateOptions, 'maxFaults'> = { helloBurst: 10, hellosPerSecond: 0.5, maxTracked: 4096 };

/** A Map that forgets its oldest entry past `max` entries. */
class CappedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}

/**
 * Who may say hello: the fault record of each worker identity outlives its connections and hellos (a worker
 * dropped for bad input is refused when it comes back), and hellos are rate-limited per identity and per
 * connection (routing id). Pure bookkeeping on the caller's clock.
 */
export class PeerGate {
  private readonly faultCounts: CappedMap<PeerIdentity, number>;
  private readonly byIdentity: CappedMap<PeerIdentity, TokenBucket>;
  private readonly byConnection: CappedMap<string, TokenBucket>;

  constructor(private readonly options: PeerGateOptions) {
    this.faultCounts = new CappedMap(options.maxTracked);
    this.byIdentity = new CappedMap(options.maxTracked);
    this.byConnection = new CappedMap(options.maxTracked);
  }

  /** Why a hello is refused before the admission terms are even looked at, or undefined. */
  helloProblem(identity: PeerIdentity, connection: string, nowMs: number): { code: ErrorCode; reason: string } | undefined {
    const byIdentity = this.take(this.byIdentity, identity, nowMs);
    const byConnection = this.take(this.byConnection, connection, nowMs);
    if (!byIdentity || !byConnection) {
      return { code: 'ERR_HELLO_RATE', reason: `more than ${this.options.helloBurst} hellos, then one per ${
        Math.round(1 / this.options.hellosPerSecond)} s, from one ${byIdentity ? 'connection' : 'worker'}` };
    }
    const faults = this.faults(identity);
    if (faults > this.options.maxFaults) {
      return { code: 'ERR_TOO_MANY_FAULTS', reason: `${faults} bad messages earlier in this run: this worker may not rejoin` };
    }
    return undefined;
  }

  /** Counts one bad message against `identity`; returns its count so far. */
  recordFault(identity: PeerIdentity): number {
    const count = this.faults(identity) + 1;
    this.faultCounts.set(identity, count);
    return count;
  }

  faults(identity: PeerIdentity): number {
    return this.faultCounts.get(identity) ?? 0;
  }

  private take<K>(buckets: CappedMap<K, TokenBucket>, key: K, nowMs: number): boolean {
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.options.helloBurst, this.options.hellosPerSecond, nowMs);
      buckets.set(key, bucket);
    }
    return bucket.take(nowMs);
  }
}
