import type { ErrorCode } from '../../shared/common/errors.js';
import { decodeMessage } from '../../shared/protocol/codec.js';
import type { DatasetRequest, ErrorMessage, Hello, Message, MessageType } from '../../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.js';
import type { WireLimits } from '../../shared/protocol/wire-limits.js';
import { peekEnvelope } from '../../shared/protocol/wire-scan.js';
import type { TaskAnswer } from './round-runner.js';
import type { WorkerRecord } from './worker-registry.js';

/** What one frame from a peer asks of the pool; kinds past `unregistered` come from a registered worker. */
export type Inbound =
  | { readonly kind: 'bad-input'; readonly sender: WorkerRecord | undefined; readonly code: ErrorCode; readonly reason: string }
  | { readonly kind: 'hello'; readonly envelopeVersion: number; readonly hello: Hello }
  /** Asked before hello, by a worker that needs the data to say hello with its fingerprint. */
  | { readonly kind: 'dataset-request'; readonly envelopeVersion: number; readonly request: DatasetRequest }
  /** Another message from a connection without a live worker; `message` only where it was decoded (see below). */
  | { readonly kind: 'unregistered'; readonly type: MessageType; readonly message?: Message }
  | { readonly kind: 'heartbeat'; readonly sender: WorkerRecord }
  | { readonly kind: 'answer'; readonly sender: WorkerRecord; readonly answer: TaskAnswer }
  | { readonly kind: 'goodbye'; readonly sender: WorkerRecord; readonly reason: string }
  | { readonly kind: 'task-failed'; readonly sender: WorkerRecord; readonly failure: ErrorMessage };

/** Who sent a frame, as far as the pool knows. */
export interface FrameSender {
  /** The live worker on this connection, if any. */
  readonly worker: WorkerRecord | undefined;
  /** A worker said hello on this connection once (it may be lost now: its late answers are still read). */
  readonly saidHello: boolean;
}

/** Messages a peer that has not said hello may send, each decoded only within its size bound. */
const BEFORE_HELLO: ReadonlySet<MessageType> = new Set(['hello', 'dataset-request']);

/**
 * Reads a frame within `limits`. Pure: the pool acts on the answer. Bounds before allocation: from a connection that
 * never said hello only the envelope's body field is read, and only a hello or a dataset request no larger than
 * `limits.maxHelloBytes` is decoded; everything else is decoded only from a registered worker speaking our version,
 * and only the messages a worker sends.
 */
export function readInbound(frame: Uint8Array, from: FrameSender, limits: WireLimits): Inbound {
  const sender = from.worker;
  if (!from.saidHello) {
    const peek = peekEnvelope(frame);
    if (!peek.ok) return { kind: 'bad-input', sender, code: peek.code, reason: peek.reason };
    if (!BEFORE_HELLO.has(peek.body)) return { kind: 'unregistered', type: peek.body };
    if (frame.byteLength > limits.maxHelloBytes) {
      return { kind: 'bad-input', sender, code: 'ERR_MESSAGE_LIMIT', reason: `${peek.body} of ${frame.byteLength} bytes, the limit is ${limits.maxHelloBytes}` };
    }
  }
  const decoded = decodeMessage(frame, limits);
  if (!decoded.ok) return { kind: 'bad-input', sender, code: decoded.code, reason: decoded.reason };
  const message = decoded.message;
  if (message.type === 'hello') return { kind: 'hello', envelopeVersion: decoded.protocolVersion, hello: message };
  if (message.type === 'dataset-request') return { kind: 'dataset-request', envelopeVersion: decoded.protocolVersion, request: message };
  if (!sender) return { kind: 'unregistered', type: message.type, message };
  if (decoded.protocolVersion !== PROTOCOL_VERSION) {
    return { kind: 'bad-input', sender, code: 'ERR_PROTOCOL_VERSION', reason: `envelope version ${decoded.protocolVersion}` };
  }
  switch (message.type) {
    case 'heartbeat':
      return { kind: 'heartbeat', sender };
    case 'gradients':
    case 'eval-result':
      return { kind: 'answer', sender, answer: message };
    case 'goodbye':
      return { kind: 'goodbye', sender, reason: message.reason };
    case 'error':
      return { kind: 'task-failed', sender, failure: message };
    case 'welcome':
    case 'refused':
    case 'step':
    case 'weights':
    case 'update':
    case 'eval-request':
    case 'shutdown':
    case 'dataset-chunk':
      return { kind: 'bad-input', sender, code: 'ERR_UNKNOWN_MESSAGE', reason: `'${message.type}' is not a worker message` };
  }
}
