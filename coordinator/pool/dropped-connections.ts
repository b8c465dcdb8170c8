import type { Router } from 'zeromq';
import type { Logger } from '../../shared/common/logger.js';
import type { WireLimits } from '../../shared/protocol/wire-limits.js';

/**
 * libzmq drops a connection whose frame exceeds the socket's maxMessageSize before reading it, and reports only a
 * disconnect; each one gets a line, since the cause (a peer that left, or an oversized frame) is not told apart.
 */
export function logDroppedConnections(socket: Router, limits: WireLimits, log: Logger): void {
  socket.events.on('disconnect', (event) => {
    log.info({ endpoint: event.address, code: 'ERR_CONNECTION_DROPPED', maxMessageBytes: limits.maxMessageBytes },
      'a peer connection closed (the peer left, or sent a frame over maxMessageBytes)');
  });
}
