import { Router } from 'zeromq';
import type { Logger } from '../shared/common/logger.js';
import { z85Encode } from '../shared/security/z85.js';

/** The endpoint libzmq sends ZAP requests to (RFC 27); one handler per ZeroMQ context, so one per process here. */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** A ZAP request as RFC 27 frames it, after the ROUTER's routing id and the empty delimiter. */
export interface ZapRequest {
  readonly domain: string;
  readonly address: string;
  readonly mechanism: string;
  /** The client's long-term public key, Z85, for CURVE. */
  readonly clientKey: string | undefined;
}

/** Whether a peer may connect: `reason` is the status text sent back (and logged) on refusal. */
export type ZapVerdict = { readonly allow: true; readonly userId: string } | { readonly allow: false; readonly reason: string };

export type ZapPolicy = (request: ZapRequest) => ZapVerdict;

interface Handler {
  socket: Router;
  loop: Promise<void>;
  readonly domains: Map<string, ZapPolicy>;
}

let handler: Handler | undefined;
let nextDomain = 1;

/**
 * Admits CURVE peers of a socket by `policy`: returns the ZAP domain to set on that socket, and a release to call
 * once the socket is closed. Several coordinators in one process (tests) share the one handler, told apart by
 * domain; the handler closes with the last release. Requests for an unknown domain are refused, never allowed.
 */
export async function registerZapPolicy(policy: ZapPolicy, log: Logger): Promise<{ domain: string; release: () => void }> {
  if (!handler) {
    const socket = new Router({ linger: 0 });
    await socket.bind(ZAP_ENDPOINT);
    const domains = new Map<string, ZapPolicy>();
    handler = { socket, domains, loop: serve(socket, domains, log.child({ component: 'zap' })) };
  }
  const h = handler;
  const domain = `omniglot-ddp-${process.pid}-${nextDomain++}`;
  h.domains.set(domain, policy);
  let released = false;
  return {
    domain,
    release: () => {
      if (released) return;
      released = true;
      h.domains.delete(domain);
      if (h.domains.size === 0 && handler === h) {
        handler = undefined;
        h.socket.close();
      }
    },
  };
}

/** Parses one request; undefined when it is not RFC 27 version 1.0 (libzmq never sends that). */
export function parseZapRequest(frames: readonly Buffer[]): { id: Buffer; requestId: Buffer; request: ZapRequest } | undefined {
  const [id, empty, version, requestId, domain, address, , mechanism, credential] = frames;
  if (!id || !empty || empty.length !== 0 || version?.toString() !== '1.0' || !requestId || !domain || !address || !mechanism) {
    return undefined;
  }
  const clientKey = mechanism.toString() === 'CURVE' && credential?.length === 32 ? z85Encode(credential) : undefined;
  return { id, requestId, request: { domain: domain.toString(), address: address.toString(), mechanism: mechanism.toString(), clientKey } };
}

async function serve(socket: Router, domains: Map<string, ZapPolicy>, log: Logger): Promise<void> {
  try {
    for await (const frames of socket) {
      const parsed = parseZapRequest(frames);
      if (!parsed) {
        log.warn({ frames: frames.length }, 'ignored a malformed ZAP request');
        continue;
      }
      const { id, requestId, request } = parsed;
      const policy = domains.get(request.domain);
      const verdict: ZapVerdict = policy ? policy(request) : { allow: false, reason: `unknown ZAP domain '${request.domain}'` };
      const reply = verdict.allow ? ['200', 'OK', verdict.userId] : ['400', verdict.reason, ''];
      await socket.send([id, Buffer.alloc(0), '1.0', requestId, ...reply, Buffer.alloc(0)]);
    }
  } catch (error) {
    if (!socket.closed) log.error({ err: error }, 'ZAP handler failed: CURVE peers can no longer be admitted');
  }
}
