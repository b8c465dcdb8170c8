import { boundedText } from '../../shared/common/bounded-text.js';

declare const peerIdentityBrand: unique symbol;
/** Who a worker is across connections, for its fault record and hello rate; see peerIdentity. */
export type PeerIdentity = string & { readonly [peerIdentityBrand]: true };

export interface IdentityClaim {
  readonly host: string;
  readonly pid: number;
  /** The worker's name; tells apart workers that share a process (in-process tests). */
  readonly name: string;
  /** The peer's CURVE public key (Z85), where the transport can vouch for it. */
  readonly curveKey?: string;
}

/**
 * A worker's identity: its CURVE public key when known, else host, pid and name from its hello. The second is the
 * peer's own word: it survives reconnects and new hellos of an honest worker, but a hostile peer can change it,
 * so the per-connection hello rate (PeerGate) is what bounds such a peer.
 */
export function peerIdentity(claim: IdentityClaim): PeerIdentity {
  if (claim.curveKey !== undefined) return `curve:${claim.curveKey}` as PeerIdentity;
  return `hello:${boundedText(claim.host, 64)}/${claim.pid}/${boundedText(claim.name, 64)}` as PeerIdentity;
}
