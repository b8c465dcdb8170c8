import type { ddp } from '../../proto/generated/ddp.js';
import type { NamedTensor } from '../common/named-tensor.js';
import { MAX_PHASE_NAME, MAX_WIRE_PHASES, type PhaseTimes } from '../common/phase-times.js';
import type { StepUpdate, WeightsProof } from './messages.js';
import { decodeTensor, encodeTensor } from './tensor-codec.js';

/**
 * The wire mapping of the step-exchange fields: phase times, sufficient factors, weights proofs and step updates.
 * Kept apart from codec.ts, which calls in here; decoding throws RangeError naming the field (codec.ts turns it
 * into ERR_BAD_MESSAGE).
 */

export function tensorsToWire(list: readonly NamedTensor[]): ddp.v1.Tensor.$Properties[] {
  return list.map(encodeTensor).map((t) => ({ ...t, shape: [...t.shape] }));
}

export function tensorsFromWire(list: readonly ddp.v1.Tensor.$Properties[] | null | undefined): NamedTensor[] {
  return (list ?? []).map((t) => decodeTensor({ name: t.name ?? '', shape: t.shape ?? [], data: t.data ?? new Uint8Array(0),
    encoding: t.encoding ?? 0 }));
}

export function phasesToWire(times: PhaseTimes | undefined): ddp.v1.PhaseTime.$Properties[] {
  return Object.entries(times ?? {}).map(([name, ms]) => ({ name, ms }));
}

/** Undefined when none were sent. @throws RangeError on too many, a long or repeated name, or a bad duration. */
export function phasesFromWire(list: readonly ddp.v1.PhaseTime.$Properties[] | null | undefined): PhaseTimes | undefined {
  if (!list || list.length === 0) return undefined;
  if (list.length > MAX_WIRE_PHASES) throw new RangeError(`${list.length} phase times, at most ${MAX_WIRE_PHASES}`);
  const out: Record<string, number> = {};
  for (const p of list) {
    const name = p.name ?? '';
    const ms = p.ms ?? 0;
    if (name === '' || name.length > MAX_PHASE_NAME) throw new RangeError(`phase name '${name.slice(0, MAX_PHASE_NAME)}' is empty or too long`);
    if (Object.hasOwn(out, name)) throw new RangeError(`phase '${name}' appears twice`);
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`phase '${name}' took ${ms} ms`);
    out[name] = ms;
  }
  return out;
}

export function proofFromWire(p: ddp.v1.WeightsProof.$Properties | null | undefined, uint: (v: number | null | undefined, field: string) => number): WeightsProof | undefined {
  if (!p) return undefined;
  return { version: uint(p.version, 'proof version'), crc32: uint(p.crc32, 'proof crc32') };
}

export function updateToWire(m: StepUpdate): ddp.v1.StepUpdate.$Properties {
  return { version: m.version, samples: m.samples, learningRate: m.learningRate, momentum: m.momentum, weightDecay: m.weightDecay,
    meanGrads: tensorsToWire(m.meanGrads), factors: tensorsToWire(m.factors) };
}

/** @throws RangeError on a bad number or tensor. */
export function updateFromWire(u: ddp.v1.StepUpdate.$Properties, uint: (v: number | null | undefined, field: string) => number): StepUpdate {
  const finite = (v: number | null | undefined, field: string): number => {
    const n = v ?? 0;
    if (!Number.isFinite(n) || n < 0) throw new RangeError(`update ${field} is ${n}`);
    return n;
  };
  return { type: 'update', version: uint(u.version, 'update version'), samples: uint(u.samples, 'update samples'),
    learningRate: finite(u.learningRate, 'learning rate'), momentum: finite(u.momentum, 'momentum'),
    weightDecay: finite(u.weightDecay, 'weight decay'), meanGrads: tensorsFromWire(u.meanGrads), factors: tensorsFromWire(u.factors) };
}
