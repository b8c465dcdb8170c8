/**
 * The error catalogue: every error the project raises on purpose has a stable code here, so logs, tests and users
 * can match on `code` rather than on wording.
 */
export const ERROR_CODES = {
  ERR_BAD_MESSAGE: 'bytes that are not a valid protocol message',
  ERR_MESSAGE_LIMIT: 'a message, or a repeated field or string in it, over the bounds derived from the model and dataset',
  ERR_CONNECTION_DROPPED: 'ZeroMQ closed a peer connection: the peer left, or sent a frame over the size limit',
  ERR_HELLO_RATE: 'hellos from one worker identity or connection faster than the rate limit',
  ERR_UNKNOWN_MESSAGE: 'a message type this side does not accept',
  ERR_PROTOCOL_VERSION: 'the peer speaks another protocol version',
  ERR_DATASET_MISMATCH: 'the peer loaded another dataset',
  ERR_MODEL_MISMATCH: 'the peer runs another model',
  ERR_NOT_REGISTERED: 'a message from a worker that never said hello',
  ERR_BAD_GRADIENTS: 'gradients with wrong names, shapes, lengths or non-finite values',
  ERR_STALE_TASK: 'an answer for a task that is no longer pending',
  ERR_WORKER_LOST: 'a worker stopped answering',
  ERR_TOO_MANY_FAULTS: 'a worker sent bad messages too often and was disconnected',
  ERR_NOT_AUTHORIZED: 'a worker key that is not in the allow-list',
  ERR_INSECURE_BIND: 'binding a non-loopback address without CURVE (or a dashboard without --dashboard-token)',
  ERR_BAD_CONFIG: 'a flag or config value that is not valid',
  ERR_CHECKPOINT_CORRUPT: 'a checkpoint that fails its checksum',
  ERR_DATASET_MISSING: 'the Omniglot zips were not found',
  ERR_DATASET_CORRUPT: 'a dataset zip or cache that does not read back',
  ERR_IMAGE_DECODE: 'an image that does not decode',
  ERR_DOWNLOAD: 'the dataset could not be downloaded',
  ERR_DATASET_UNAVAILABLE: 'a worker without the dataset could not get it from the coordinator',
  ERR_BACKEND_UNAVAILABLE: 'a forced compute backend that is not installed or usable',
  ERR_COMPUTE: 'the worker failed to compute a task',
  ERR_SHUTDOWN: 'the run was stopped',
  ERR_EVENTS_CORRUPT: 'a run folder\'s events.jsonl line that is not a run event',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error raised locally, with a stable code. Errors that cross the wire travel as `error`/`refused` messages. */
export class DdpError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DdpError';
    this.code = code;
  }
}
