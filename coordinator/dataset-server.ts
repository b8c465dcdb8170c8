import { encodeDatasetFile } from '../shared/dataset/dataset-transfer.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import { DdpError } from '../shared/common/errors.js';
import { DATASET_CHUNK_BYTES } from '../shared/protocol/dataset-limits.js';
import type { DatasetChunk, DatasetRequest, Refused } from '../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';

/** How many whole copies one peer may pull: enough for retries, not for a peer that loops to waste bandwidth. */
const COPIES_PER_PEER = 3;

/**
 * Serves the coordinator's decoded dataset to workers that have none, one bounded chunk per request (the worker
 * pulls, so it sets the pace and nothing piles up in the send queue). The file is built on the first request and
 * checked against the set's fingerprint; each peer (ZeroMQ routing id) has a byte budget.
 */
export class DatasetServer {
  private file: Buffer | undefined;
  private readonly served = new Map<string, number>();

  constructor(private readonly data: OmniglotData) {}

  /** The answer to one request from `peer`, whose envelope said `protocolVersion`. */
  answer(peer: string, request: DatasetRequest, protocolVersion: number): DatasetChunk | Refused {
    if (protocolVersion !== PROTOCOL_VERSION) {
      return { type: 'refused', code: 'ERR_PROTOCOL_VERSION', reason: `envelope version ${protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}` };
    }
    let file: Buffer;
    try {
      file = this.file ??= encodeDatasetFile(this.data);
    } catch (error) {
      const reason = error instanceof DdpError ? error.message : String(error);
      return { type: 'refused', code: 'ERR_DATASET_UNAVAILABLE', reason };
    }
    if (request.offset > file.length) {
      return { type: 'refused', code: 'ERR_BAD_MESSAGE', reason: `dataset request at offset ${request.offset}, past the end (${file.length} bytes)` };
    }
    const length = Math.min(request.maxBytes, DATASET_CHUNK_BYTES, file.length - request.offset);
    const total = (this.served.get(peer) ?? 0) + length;
    if (total > COPIES_PER_PEER * file.length) {
      return { type: 'refused', code: 'ERR_TOO_MANY_FAULTS', reason: `asked for ${total} bytes of a ${file.length}-byte dataset` };
    }
    this.served.set(peer, total);
    return { type: 'dataset-chunk', fingerprint: this.data.fingerprint, offset: request.offset, totalBytes: file.length,
      data: file.subarray(request.offset, request.offset + length) };
  }
}
