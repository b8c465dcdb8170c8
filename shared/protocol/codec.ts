import { ddp } from '../../proto/generated/ddp.js';
import { isHeadName, type HeadName, type HeadStat } from '../model/heads.js';
import { stepId, taskId, workerId } from './ids.js';
import { phasesFromWire, phasesToWire, proofFromWire, tensorsFromWire, tensorsToWire, updateFromWire, updateToWire } from './exchange-codec.js';
import { DATASET_CHUNK_BYTES, isFingerprint, MAX_DATASET_BYTES } from './dataset-limits.js';
import type { Agreement, DatasetChunk, Message, Split } from './messages.js';
import { boundedText } from '../common/bounded-text.js';
import { DdpError } from '../common/errors.js';
import { PROTOCOL_VERSION } from './version.js';
import { ANY_MODEL_LIMITS, type WireLimits } from './wire-limits.js';
import { peekEnvelope, scanFrame } from './wire-scan.js';

const pb = ddp.v1;

/** A frame decoded, or why not: decoding never throws, since frames come from the network. */
export type DecodeResult =
  | { readonly ok: true; readonly protocolVersion: number; readonly message: Message }
  | { readonly ok: false; readonly code: DecodeErrorCode; readonly reason: string };

export type DecodeErrorCode = 'ERR_BAD_MESSAGE' | 'ERR_UNKNOWN_MESSAGE' | 'ERR_MESSAGE_LIMIT' | 'ERR_TENSOR_ENCODING';

/** Encodes one message as an Envelope frame stamped with this side's protocol version. */
export function encodeMessage(message: Message, protocolVersion: number = PROTOCOL_VERSION): Uint8Array {
  const envelope: ddp.v1.Envelope.$Properties = { protocolVersion, ...toWire(message) };
  return pb.Envelope.encode(envelope).finish();
}

function headStatsToWire(heads: readonly HeadStat[]): ddp.v1.HeadStat.$Properties[] {
  return heads.map((h) => ({ head: h.head, lossSum: h.lossSum, correct: h.correct, count: h.count }));
}

function toWire(m: Message): Omit<ddp.v1.Envelope.$Properties, 'protocolVersion'> {
  switch (m.type) {
    case 'hello':
      return { hello: { protocolVersion: m.protocolVersion, backend: m.backend, datasetFingerprint: m.datasetFingerprint,
        workerName: m.workerName, modelKind: m.modelKind, host: m.host, pid: m.pid } };
    case 'welcome':
      return { welcome: { workerId: m.workerId, heartbeatIntervalMs: m.heartbeatIntervalMs,
        workerTimeoutMs: m.workerTimeoutMs, modelKind: m.modelKind } };
    case 'refused':
      return { refused: { code: m.code, reason: m.reason } };
    case 'step':
      return { step: { taskId: m.taskId, stepId: m.stepId, epoch: m.epoch, weightsVersion: m.weightsVersion,
        sampleIndices: Array.from(m.sampleIndices), augment: m.augment, augmentSeed: m.augmentSeed,
        lossWeights: [...m.lossWeights].map(([head, weight]) => ({ head, weight })), exchange: m.exchange ?? '' } };
    case 'gradients':
      return { gradients: { taskId: m.taskId, stepId: m.stepId, sampleCount: m.sampleCount, computeMs: m.computeMs,
        grads: tensorsToWire(m.grads), heads: headStatsToWire(m.heads),
        // Step-exchange fields (exchange-codec.ts).
        phases: phasesToWire(m.phases), factors: tensorsToWire(m.factors ?? []), proof: m.proof ?? null } };
    case 'weights':
      return { weights: { version: m.version,
        tensors: tensorsToWire(m.tensors),
        optimizerState: tensorsToWire(m.optimizerState ?? []) } };
    case 'update':
      return { update: updateToWire(m) };
    case 'eval-request':
      return { evalRequest: { taskId: m.taskId, split: m.split, sampleIndices: Array.from(m.sampleIndices),
        weightsVersion: m.weightsVersion } };
    case 'eval-result':
      return { evalResult: { taskId: m.taskId, sampleCount: m.sampleCount, heads: headStatsToWire(m.heads),
        agreement: m.agreement ?? null } };
    case 'heartbeat':
      return { heartbeat: {} };
    case 'shutdown':
      return { shutdown: { reason: m.reason, resumable: m.resumable } };
    case 'error':
      return { error: { code: m.code, message: m.message, taskId: m.taskId } };
    case 'goodbye':
      return { goodbye: { reason: m.reason } };
    case 'dataset-request':
      return { datasetRequest: { offset: m.offset, maxBytes: m.maxBytes } };
    case 'dataset-chunk':
      return { datasetChunk: { fingerprint: m.fingerprint, offset: m.offset, totalBytes: m.totalBytes, data: m.data } };
  }
}

/** Thrown inside fromWire only; decodeMessage turns it into a DecodeResult (ERR_BAD_MESSAGE). */
class WireError extends Error {}

const num = (v: number | null | undefined): number => v ?? 0;
const str = (v: string | null | undefined): string => v ?? '';

/**
 * protobufjs decodes 64-bit fields as Long objects when long.js is present, whatever the generated types say
 * (they are generated with --force-number); take either form and refuse what a double cannot hold exactly.
 */
function uint(v: number | null | undefined, field: string): number {
  const raw: unknown = v ?? 0;
  const n = typeof raw === 'object' && raw !== null && 'toNumber' in raw && typeof raw.toNumber === 'function'
    ? Number(raw.toString()) : raw;
  if (typeof n !== 'number') throw new WireError(`${field} is not a number`);
  if (!Number.isSafeInteger(n) || n < 0) throw new WireError(`${field} is not a non-negative integer`);
  return n;
}

function headName(v: string | null | undefined, field: string): HeadName {
  const s = str(v);
  if (!isHeadName(s)) throw new WireError(`${field} names an unknown head '${boundedText(s, 40)}'`);
  return s;
}

function headStatsFromWire(list: readonly ddp.v1.HeadStat.$Properties[] | null | undefined): HeadStat[] {
  const seen = new Set<HeadName>();
  return (list ?? []).map((h) => {
    const head = headName(h.head, 'head stat');
    if (seen.has(head)) throw new WireError(`head '${head}' appears twice`);
    seen.add(head);
    const lossSum = num(h.lossSum);
    if (!Number.isFinite(lossSum)) throw new WireError(`head '${head}' loss sum is not finite`);
    return { head, lossSum, correct: uint(h.correct, 'correct'), count: uint(h.count, 'count') };
  });
}

function indices(list: readonly number[] | null | undefined): Uint32Array {
  return Uint32Array.from(list ?? []);
}

function split(v: string | null | undefined): Split {
  const s = str(v);
  if (s !== 'train' && s !== 'test') throw new WireError(`unknown split '${boundedText(s, 40)}'`);
  return s;
}

function agreement(a: ddp.v1.Agreement.$Properties | null | undefined): Agreement | undefined {
  if (!a) return undefined;
  return { agree: uint(a.agree, 'agree'), impliedCorrect: uint(a.impliedCorrect, 'implied_correct'),
    count: uint(a.count, 'agreement count') };
}

/** A chunk within its bounds: a known-size file, a fingerprint, at most one chunk of bytes that fit the file. */
function datasetChunk(c: ddp.v1.DatasetChunk.$Properties): DatasetChunk {
  const fingerprint = str(c.fingerprint);
  if (!isFingerprint(fingerprint)) throw new WireError('dataset chunk fingerprint is not 64 hex digits');
  const offset = uint(c.offset, 'offset');
  const totalBytes = uint(c.totalBytes, 'total_bytes');
  const data = c.data ?? new Uint8Array(0);
  if (totalBytes > MAX_DATASET_BYTES) throw new WireError(`dataset of ${totalBytes} bytes is over the limit of ${MAX_DATASET_BYTES}`);
  if (data.length > DATASET_CHUNK_BYTES) throw new WireError(`dataset chunk of ${data.length} bytes is over the limit of ${DATASET_CHUNK_BYTES}`);
  if (offset + data.length > totalBytes) throw new WireError(`dataset chunk [${offset}, ${offset + data.length}) runs past the end (${totalBytes} bytes)`);
  return { type: 'dataset-chunk', fingerprint, offset, totalBytes, data };
}

function fromWire(e: ddp.v1.Envelope): Message {
  switch (e.body) {
    case 'hello': {
      const h = e.hello!;
      return { type: 'hello', protocolVersion: uint(h.protocolVersion, 'protocol_version'), backend: str(h.backend),
        datasetFingerprint: str(h.datasetFingerprint), workerName: str(h.workerName), modelKind: str(h.modelKind),
        host: str(h.host), pid: uint(h.pid, 'pid') };
    }
    case 'welcome': {
      const w = e.welcome!;
      return { type: 'welcome', workerId: workerId(str(w.workerId)),
        heartbeatIntervalMs: uint(w.heartbeatIntervalMs, 'heartbeat_interval_ms'),
        workerTimeoutMs: uint(w.workerTimeoutMs, 'worker_timeout_ms'), modelKind: str(w.modelKind) };
    }
    case 'refused':
      return { type: 'refused', code: str(e.refused!.code), reason: str(e.refused!.reason) };
    case 'step': {
      const s = e.step!;
      const lossWeights = new Map<HeadName, number>();
      for (const w of s.lossWeights ?? []) {
        const head = headName(w.head, 'loss weight');
        const weight = num(w.weight);
        if (!Number.isFinite(weight) || weight < 0) throw new WireError(`loss weight of '${head}' is ${weight}`);
        lossWeights.set(head, weight);
      }
      return { type: 'step', taskId: taskId(uint(s.taskId, 'task_id')), stepId: stepId(uint(s.stepId, 'step_id')),
        epoch: uint(s.epoch, 'epoch'), weightsVersion: uint(s.weightsVersion, 'weights_version'),
        sampleIndices: indices(s.sampleIndices), lossWeights, augment: s.augment ?? false,
        augmentSeed: uint(s.augmentSeed, 'augment_seed'), ...(s.exchange ? { exchange: s.exchange.slice(0, 40) } : {}) };
    }
    case 'gradients': {
      const g = e.gradients!;
      // Step-exchange fields (exchange-codec.ts): present only when sent.
      const phases = phasesFromWire(g.phases);
      const factors = tensorsFromWire(g.factors);
      const proof = proofFromWire(g.proof, uint);
      return { type: 'gradients', taskId: taskId(uint(g.taskId, 'task_id')), stepId: stepId(uint(g.stepId, 'step_id')),
        sampleCount: uint(g.sampleCount, 'sample_count'), grads: tensorsFromWire(g.grads), heads: headStatsFromWire(g.heads),
        computeMs: num(g.computeMs), ...(phases ? { phases } : {}), ...(factors.length > 0 ? { factors } : {}),
        ...(proof ? { proof } : {}) };
    }
    case 'weights': {
      const state = tensorsFromWire(e.weights!.optimizerState);
      return { type: 'weights', version: uint(e.weights!.version, 'version'), tensors: tensorsFromWire(e.weights!.tensors),
        ...(state.length > 0 ? { optimizerState: state } : {}) };
    }
    case 'update':
      return updateFromWire(e.update!, uint);
    case 'evalRequest': {
      const r = e.evalRequest!;
      return { type: 'eval-request', taskId: taskId(uint(r.taskId, 'task_id')), split: split(r.split),
        sampleIndices: indices(r.sampleIndices), weightsVersion: uint(r.weightsVersion, 'weights_version') };
    }
    case 'evalResult': {
      const r = e.evalResult!;
      const a = agreement(r.agreement);
      return { type: 'eval-result', taskId: taskId(uint(r.taskId, 'task_id')),
        sampleCount: uint(r.sampleCount, 'sample_count'), heads: headStatsFromWire(r.heads),
        ...(a ? { agreement: a } : {}) };
    }
    case 'heartbeat':
      return { type: 'heartbeat' };
    case 'shutdown':
      return { type: 'shutdown', reason: str(e.shutdown!.reason), resumable: e.shutdown!.resumable ?? false };
    case 'error':
      return { type: 'error', code: str(e.error!.code), message: str(e.error!.message),
        taskId: taskId(uint(e.error!.taskId, 'task_id')) };
    case 'goodbye':
      return { type: 'goodbye', reason: str(e.goodbye!.reason) };
    case 'datasetRequest':
      return { type: 'dataset-request', offset: uint(e.datasetRequest!.offset, 'offset'),
        maxBytes: uint(e.datasetRequest!.maxBytes, 'max_bytes') };
    case 'datasetChunk':
      return datasetChunk(e.datasetChunk!);
    default:
      throw new WireError('envelope has no message body');
  }
}

/**
 * Decodes one frame. Never throws: malformed input comes back as a reason to log and refuse. The frame is walked
 * against `limits` first, so nothing proportional to a hostile field is built (shared/protocol/wire-scan.ts).
 */
export function decodeMessage(frame: Uint8Array, limits: WireLimits = ANY_MODEL_LIMITS): DecodeResult {
  const peek = peekEnvelope(frame);
  if (!peek.ok) return peek;
  const problem = scanFrame(frame, limits);
  if (problem) return { ok: false, ...problem };
  let envelope: ddp.v1.Envelope;
  try {
    envelope = pb.Envelope.decode(frame);
  } catch (error) {
    return { ok: false, code: 'ERR_BAD_MESSAGE', reason: `not a protocol envelope (${boundedText((error as Error).message)})` };
  }
  try {
    return { ok: true, protocolVersion: envelope.protocolVersion, message: fromWire(envelope) };
  } catch (error) {
    if (error instanceof WireError) {
      const code = envelope.body ? 'ERR_BAD_MESSAGE' : 'ERR_UNKNOWN_MESSAGE';
      return { ok: false, code, reason: error.message };
    }
    // A tensor in an encoding this side does not know (tensor-codec.ts), wherever in the message it sits.
    const code = error instanceof DdpError && error.code === 'ERR_TENSOR_ENCODING' ? error.code : 'ERR_BAD_MESSAGE';
    return { ok: false, code, reason: boundedText((error as Error).message) };
  }
}
