import { CHARACTER_CLASSES } from '../model/heads.js';
import { DRAWERS_PER_CHARACTER } from '../dataset/omniglot-layout.js';
import { MODEL_KINDS, modelSpec, type ModelKind, type ModelSpec } from '../model/model-spec.js';
import { DATASET_CHUNK_BYTES } from './dataset-limits.js';
import { elementCount } from '../common/named-tensor.js';
import { MAX_WIRE_PHASES } from '../common/phase-times.js';

/**
 * Bounds on what a frame may hold, derived from the model(s) and the dataset, checked on the wire before protobufjs
 * builds anything proportional to the input (shared/protocol/wire-scan.ts). Keys of `repeated` and `strings` are
 * `<Message>.<field>` as proto/ddp.proto names them (camelCase, as protobufjs reflects them).
 */
export interface WireLimits {
  /** The socket's maxMessageSize: the largest legitimate frame (weights or gradients of every parameter, or the index list of a whole split) plus headroom. */
  readonly maxMessageBytes: number;
  /** The most a hello may weigh: it is all a peer that has not joined may have decoded. */
  readonly maxHelloBytes: number;
  /** Most entries of each repeated field; a repeated field without an entry here is refused. */
  readonly repeated: Readonly<Record<string, number>>;
  /** Longest string or bytes field, in bytes; fields not named here get `maxStringBytes`. */
  readonly strings: Readonly<Record<string, number>>;
  readonly maxStringBytes: number;
}

/** Free text (error messages, reasons, tensor names): enough for any message the project writes; logs cut it further. */
export const MAX_STRING_BYTES = 1024;
/** Hello fields: host names are at most 253 bytes, fingerprints 64, backend and model names a few. */
export const MAX_HELLO_STRING_BYTES = 256;
const HELLO_STRINGS = ['backend', 'datasetFingerprint', 'workerName', 'modelKind', 'host'] as const;
/** Worst-case protobuf overhead of one field: tag (1-2 bytes) and length (up to 5), rounded up. */
const FIELD_OVERHEAD = 8;
/** Room for the envelope and the small scalar fields of any message. */
const HEADROOM_BYTES = 64 * 1024;
/** A uint32 varint takes at most 5 bytes. */
const MAX_VARINT32_BYTES = 5;

/** The most samples one message can name: a whole split of the background set, which holds every image used. */
export const MAX_SAMPLE_INDICES = CHARACTER_CLASSES * DRAWERS_PER_CHARACTER;

/** Limits for a run of the models in `specs` (one model for a run; all of them for tools that read any frame). */
export function wireLimits(specs: readonly ModelSpec[], maxIndices: number = MAX_SAMPLE_INDICES): WireLimits {
  const most = (f: (s: ModelSpec) => number): number => Math.max(...specs.map(f));
  const tensors = most((s) => s.params.length);
  const rank = most((s) => Math.max(...s.params.map((p) => p.shape.length)));
  const heads = most((s) => s.heads.length);
  const tensorBytes = most((s) => Math.max(...s.params.map((p) => 4 * elementCount(p.shape))));
  // A tensor on the wire: its name, its shape (rank varints), its raw float32 bytes and its encoding, each in a
  // field, and the tensor's own field.
  const allTensorsBytes = most((s) => s.params.reduce((n, p) => n + 4 * elementCount(p.shape)
    + MAX_STRING_BYTES + rank * MAX_VARINT32_BYTES + 5 * FIELD_OVERHEAD, 0));
  const headsBytes = heads * (MAX_STRING_BYTES + 4 * 10 + 5 * FIELD_OVERHEAD);
  const helloBytes = HELLO_STRINGS.length * (MAX_HELLO_STRING_BYTES + FIELD_OVERHEAD) + 4 * FIELD_OVERHEAD;
  return {
    maxMessageBytes: allTensorsBytes + headsBytes + maxIndices * MAX_VARINT32_BYTES + HEADROOM_BYTES,
    maxHelloBytes: helloBytes,
    repeated: {
      'Tensor.shape': rank,
      'Gradients.grads': tensors,
      'Weights.tensors': tensors,
      'Gradients.heads': heads,
      'EvalResult.heads': heads,
      'StepAssignment.lossWeights': heads,
      'StepAssignment.sampleIndices': maxIndices,
      // Step-exchange fields (coordinator/step-exchange/factored.ts): phase times, factors and optimizer state.
      'Gradients.phases': MAX_WIRE_PHASES,
      'Gradients.factors': tensors,
      'Weights.optimizerState': tensors,
      'StepUpdate.meanGrads': tensors,
      'StepUpdate.factors': tensors,
      'EvalRequest.sampleIndices': maxIndices,
    },
    strings: {
      'Tensor.data': tensorBytes,
      'DatasetChunk.data': DATASET_CHUNK_BYTES,
      ...Object.fromEntries(HELLO_STRINGS.map((f) => [`Hello.${f}`, MAX_HELLO_STRING_BYTES])),
    },
    maxStringBytes: MAX_STRING_BYTES,
  };
}

/** The bounds of one run's frames, both ways: its model, and index lists no longer than its larger split. */
export function runWireLimits(modelKind: ModelKind, splitSizes: readonly number[]): WireLimits {
  return wireLimits([modelSpec(modelKind)], Math.max(...splitSizes));
}

/** Limits wide enough for any model of the project, for readers that do not know the run's model. */
export const ANY_MODEL_LIMITS: WireLimits = wireLimits(MODEL_KINDS.map(modelSpec));
