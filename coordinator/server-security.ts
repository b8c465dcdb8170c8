import type { Router } from 'zeromq';
import { DdpError } from '../shared/common/errors.js';
import type { Logger } from '../shared/common/logger.js';
import { registerZapPolicy } from './zap-authenticator.js';

/**
 * How the coordinator's socket admits peers: CURVE (encrypted, and only workers whose public keys are in the
 * allow-list), or plain for loopback, or for a non-loopback bind with --insecure.
 */
export type ServerSecurity =
  | { readonly kind: 'plain'; readonly insecure: boolean }
  | {
    readonly kind: 'curve';
    /** The coordinator's key pair, Z85; workers are given the public key (--coordinator-key). */
    readonly publicKey: string;
    readonly secretKey: string;
    /** Z85 public keys of the workers that may join. */
    readonly allowList: ReadonlySet<string>;
  };

/** True for endpoints that cannot be reached from another machine. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('inproc://') || endpoint.startsWith('ipc://')) return true;
  const match = /^tcp:\/\/(\[[^\]]+\]|[^:]+):/.exec(endpoint);
  const host = match?.[1] ?? '';
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/** @throws DdpError ERR_INSECURE_BIND when a non-loopback endpoint would be bound without CURVE or --insecure. */
export function checkBind(bind: string, security: ServerSecurity): void {
  if (security.kind === 'plain' && !security.insecure && !isLoopbackEndpoint(bind)) {
    throw new DdpError('ERR_INSECURE_BIND', `refusing to bind ${bind} without CURVE: anyone who reaches it could send gradients. Give CURVE keys (--curve-secret-key-file, --allow-list), or pass --insecure`);
  }
}

/**
 * Sets the socket's security before it binds. With CURVE, a ZAP handler checks each connecting worker's key
 * against the allow-list and logs the address and key of each one it refuses (code ERR_NOT_AUTHORIZED); the
 * handler is released when the socket closes.
 * @throws DdpError ERR_INSECURE_BIND when a non-loopback endpoint would be bound without CURVE or --insecure.
 */
export async function applyServerSecurity(socket: Router, bind: string, security: ServerSecurity, log: Logger): Promise<void> {
  if (security.kind === 'plain') {
    checkBind(bind, security);
    if (!isLoopbackEndpoint(bind)) log.warn({ bind }, 'binding a non-loopback address without encryption or authentication (--insecure)');
    return;
  }
  const securityLog = log.child({ component: 'curve' });
  const { domain, release } = await registerZapPolicy((request) => {
    if (request.mechanism !== 'CURVE' || request.clientKey === undefined) {
      securityLog.warn({ address: request.address, mechanism: request.mechanism, code: 'ERR_NOT_AUTHORIZED' }, 'refused a peer that does not use CURVE');
      return { allow: false, reason: 'CURVE required' };
    }
    if (!security.allowList.has(request.clientKey)) {
      securityLog.warn({ address: request.address, key: request.clientKey, code: 'ERR_NOT_AUTHORIZED',
        reason: 'key not in the allow-list' }, `refused worker at ${request.address}: CURVE key ${request.clientKey} is not in the allow-list`);
      return { allow: false, reason: 'key not in the allow-list' };
    }
    securityLog.debug({ address: request.address, key: request.clientKey }, 'admitted a CURVE key');
    return { allow: true, userId: request.clientKey };
  }, log);
  socket.curveServer = true;
  socket.curveSecretKey = security.secretKey;
  socket.zapDomain = domain;
  // Without this, libzmq admits every CURVE client when no ZAP handler answers; with it, it refuses them.
  socket.zapEnforceDomain = true;
  // Peers without CURVE or with a wrong coordinator key fail before ZAP, where libzmq reports only our endpoint.
  socket.events.on('handshake:error:protocol', (event) => {
    securityLog.warn({ endpoint: event.address, code: 'ERR_NOT_AUTHORIZED', reason: event.error.message }, 'refused a connection: CURVE handshake failed (a worker without CURVE, or with a wrong coordinator key)');
  });
  socket.events.on('end', release);
  log.info({ bind, publicKey: security.publicKey, allowed: security.allowList.size }, 'CURVE on: only allow-listed workers may join');
}
