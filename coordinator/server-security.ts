import type { Router } from 'zeromq';
import { DdpError } from '../shared/errors.js';
import type { Logger } from '../shared/logging/logger.js';

/** How the coordinator's socket admits peers. CURVE is issue #5's work; plain is for loopback or --insecure. */
export type ServerSecurity =
  | { readonly kind: 'plain'; readonly insecure: boolean };

/** True for endpoints that cannot be reached from another machine. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('inproc://') || endpoint.startsWith('ipc://')) return true;
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:]+):/.exec(endpoint);
  const host = match?.[1] ?? '';
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/**
 * Sets the socket's security before it binds.
 * @throws DdpError ERR_INSECURE_BIND when a non-loopback endpoint would be bound without CURVE or --insecure.
 */
export async function applyServerSecurity(socket: Router, bind: string, security: ServerSecurity, log: Logger): Promise<void> {
  void socket;
  if (security.kind === 'plain' && !isLoopbackEndpoint(bind)) {
    if (!security.insecure) {
      throw new DdpError('ERR_INSECURE_BIND', `refusing to bind ${bind} without CURVE: anyone who reaches it could send gradients. Give CURVE keys, or pass --insecure`);
    }
    log.warn({ bind }, 'binding a non-loopback address without encryption or authentication (--insecure)');
  }
}
