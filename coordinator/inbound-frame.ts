import type { Router } from 'zeromq';
import type { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logging/logger.js';
import { decodeMessage } from '../shared/protocol/codec.js';
import type { Message, MessageType } from '../shared/protocol/messages.js';
import type { WireLimits } from '../shared/protocol/wire-limits.js';
import { peekEnvelope } from '../shared/protocol/wire-scan.js';

/** What the coordinator makes of one inbound frame, decoding no more than the sender is entitled to. */
export type InboundFrame =
  | { readonly kind: 'message'; readonly protocolVersion: number; readonly message: Message }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly reason: string }
  /** A message other than hello from a sender that never joined: only its type was read. */
  | { readonly kind: 'stranger'; readonly type: MessageType };

/**
 * Reads a frame from a peer that said hello (a joined worker, or one since lost whose late answer is recognised)
 * in full, within `limits`; from anyone else only its envelope's body field, and in full only a hello no larger
 * than `limits.maxHelloBytes`.
 */
export function readInbound(frame: Uint8Array, saidHello: boolean, limits: WireLimits): InboundFrame {
  if (!saidHello) {
    const peek = peekEnvelope(frame);
    if (!peek.ok) return { kind: 'refused', code: peek.code, reason: peek.reason };
    if (peek.body !== 'hello') return { kind: 'stranger', type: peek.body };
    if (frame.byteLength > limits.maxHelloBytes) {
      return { kind: 'refused', code: 'ERR_MESSAGE_LIMIT', reason: `hello of ${frame.byteLength} bytes, the limit is ${limits.maxHelloBytes}` };
    }
  }
  const decoded = decodeMessage(frame, limits);
  return decoded.ok ? { kind: 'message', protocolVersion: decoded.protocolVersion, message: decoded.message }
    : { kind: 'refused', code: decoded.code, reason: decoded.reason };
}

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
