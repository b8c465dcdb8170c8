import type { ErrorCode } from '../../shared/common/errors.js';
import { decodeMessage } from '../../shared/protocol/codec.js';
import type { DatasetRequest, ErrorMessage, Hello, Message } from '../../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.js';
import type { TaskAnswer } from './round-runner.js';
import type { WorkerRecord } from './worker-registry.js';

/** What one frame from a peer asks of the pool; kinds past `unregistered` come from a registered worker. */
export type Inbound =
  | { readonly kind: 'bad-input'; readonly sender: WorkerRecord | undefined; readonly code: ErrorCode; readonly reason: string }
  | { readonly kind: 'hello'; readonly envelopeVersion: number; readonly hello: Hello }
  /** Asked before hello, by a worker that needs the data to say hello with its fingerprint. */
  | { readonly kind: 'dataset-request'; readonly envelopeVersion: number; readonly request: DatasetRequest }
  | { readonly kind: 'unregistered'; readonly message: Message }
  | { readonly kind: 'heartbeat'; readonly sender: WorkerRecord }
  | { readonly kind: 'answer'; readonly sender: WorkerRecord; readonly answer: TaskAnswer }
  | { readonly kind: 'goodbye'; readonly sender: WorkerRecord; readonly reason: string }
  | { readonly kind: 'task-failed'; readonly sender: WorkerRecord; readonly failure: ErrorMessage };

/**
 * Reads a frame from `sender` (undefined: a peer that has not said hello, or was dropped). Pure: the pool acts on
 * the answer. A hello is read from anyone; everything else only from a registered worker speaking our version, and
 * only the messages a worker sends.
 */
export function readInbound(frame: Uint8Array, sender: WorkerRecord | undefined): Inbound {
  const decoded = decodeMessage(frame);
  if (!decoded.ok) return { kind: 'bad-input', sender, code: decoded.code, reason: decoded.reason };
  const message = decoded.message;
  if (message.type === 'hello') return { kind: 'hello', envelopeVersion: decoded.protocolVersion, hello: message };
  if (message.type === 'dataset-request') return { kind: 'dataset-request', envelopeVersion: decoded.protocolVersion, request: message };
  if (!sender) return { kind: 'unregistered', message };
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
