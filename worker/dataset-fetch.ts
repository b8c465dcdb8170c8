import { Dealer } from 'zeromq';
import { readReceived, decodeDatasetFile, writeReceived } from '../shared/dataset/dataset-transfer.js';
import type { OmniglotData } from '../shared/dataset/omniglot.js';
import { DdpError } from '../shared/common/errors.js';
import type { Logger } from '../shared/common/logger.js';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { DATASET_CHUNK_BYTES } from '../shared/protocol/dataset-limits.js';
import type { DatasetChunk } from '../shared/protocol/messages.js';
import { applyClientSecurity, watchHandshake, type ClientSecurity } from './client-security.js';

export interface FetchOptions {
  readonly connect: string;
  readonly security: ClientSecurity;
  /** Where the received set is cached (received-<fingerprint>.bin), so a restart asks only for its fingerprint. */
  readonly cacheDir: string;
  readonly log: Logger;
  /** Ask again after this long without an answer (the coordinator may still be starting). */
  readonly retryMs?: number;
}

/**
 * Gets the decoded dataset from the coordinator, for a worker with no copy of its own: first its fingerprint and
 * size (a zero-byte request), then, unless a verified copy is cached, the file chunk by chunk, each checked to be
 * the one asked for, of the same set and size. The whole is verified against the fingerprint before it is used or
 * cached. Waits for a coordinator that is not up yet, as a worker does.
 * @throws DdpError ERR_DATASET_UNAVAILABLE when the coordinator refuses, ERR_NOT_AUTHORIZED when its handshake does,
 * ERR_DATASET_CORRUPT when the bytes received do not verify.
 */
export async function fetchDataset(options: FetchOptions): Promise<OmniglotData> {
  const log = options.log.child({ component: 'dataset-fetch' });
  const socket = new Dealer({ linger: 0, immediate: false, reconnectInterval: 200, reconnectMaxInterval: 2000,
    receiveTimeout: options.retryMs ?? 5000 });
  let refusedInHandshake: DdpError | undefined;
  try {
    await applyClientSecurity(socket, options.security);
    watchHandshake(socket, options.security, (reason) => {
      refusedInHandshake = new DdpError('ERR_NOT_AUTHORIZED', `refused by the coordinator: ${reason}`);
      socket.close();
    });
    socket.connect(options.connect);
    const ask = async (offset: number, maxBytes: number): Promise<DatasetChunk> => {
      try {
        return await request(socket, offset, maxBytes, log);
      } catch (error) {
        throw refusedInHandshake ?? error;
      }
    };
    const head = await ask(0, 0);
    const cached = await readReceived(options.cacheDir, head.fingerprint);
    if (cached.data) {
      log.info({ file: cached.file, fingerprint: head.fingerprint }, 'dataset cache hit (received earlier from the coordinator)');
      return cached.data;
    }
    if (cached.read.kind === 'invalid') log.warn({ file: cached.file, reason: cached.read.reason }, 'received dataset cache invalid, fetching again');
    log.info({ bytes: head.totalBytes, fingerprint: head.fingerprint }, 'no local copy of the dataset: receiving it from the coordinator');
    const started = performance.now();
    const bytes = Buffer.alloc(head.totalBytes);
    for (let offset = 0; offset < head.totalBytes;) {
      const chunk = await ask(offset, DATASET_CHUNK_BYTES);
      if (chunk.fingerprint !== head.fingerprint || chunk.totalBytes !== head.totalBytes || chunk.data.length === 0) {
        throw new DdpError('ERR_DATASET_CORRUPT', `the coordinator's dataset changed during the transfer (chunk at ${offset}: ${chunk.data.length} of ${chunk.totalBytes} bytes, fingerprint ${chunk.fingerprint.slice(0, 12)})`);
      }
      bytes.set(chunk.data, offset);
      offset += chunk.data.length;
    }
    const received = decodeDatasetFile(bytes, head.fingerprint);
    if (!received.data) {
      const reason = received.read.kind === 'invalid' ? received.read.reason : received.read.kind;
      throw new DdpError('ERR_DATASET_CORRUPT', `the dataset received from the coordinator does not verify: ${reason}`);
    }
    log.info({ bytes: head.totalBytes, ms: Math.round(performance.now() - started) }, 'dataset received and verified');
    try {
      const file = await writeReceived(options.cacheDir, head.fingerprint, bytes);
      log.info({ file }, 'dataset cache written');
    } catch (error) {
      log.warn({ err: error }, 'received dataset not cached');
    }
    return received.data;
  } finally {
    if (!socket.closed) socket.close();
  }
}

/** One request, sent again whenever no answer comes in time; answers to earlier duplicates are passed over. */
async function request(socket: Dealer, offset: number, maxBytes: number, log: Logger): Promise<DatasetChunk> {
  for (let attempt = 1; ; attempt++) {
    await socket.send(encodeMessage({ type: 'dataset-request', offset, maxBytes }));
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await socket.receive();
      } catch (error) {
        if ((error as { code?: string }).code === 'EAGAIN') break;
        throw error;
      }
      const decoded = decodeMessage(frames[0] ?? new Uint8Array(0));
      if (!decoded.ok) throw new DdpError('ERR_DATASET_CORRUPT', `bad answer to a dataset request: ${decoded.reason} [${decoded.code}]`);
      const m = decoded.message;
      if (m.type === 'refused') throw new DdpError('ERR_DATASET_UNAVAILABLE', `the coordinator did not send its dataset: ${m.reason} [${m.code}]`);
      if (m.type === 'dataset-chunk' && m.offset === offset) return m;
      log.debug({ type: m.type }, 'passed over an answer to an earlier request');
    }
    if (attempt === 1 || attempt % 6 === 0) log.info({ offset, attempt }, 'waiting for the coordinator to answer a dataset request');
  }
}
