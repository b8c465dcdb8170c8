import type { ErrorCode } from '../../shared/common/errors.js';
import type { Hello } from '../../shared/protocol/messages.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/version.js';
import { boundedText } from '../../shared/common/bounded-text.js';

/** What a worker must share with the coordinator to join its run. */
export interface AdmissionTerms {
  readonly datasetFingerprint: string;
  readonly modelKind: string;
}

/**
 * Why a hello is refused, or undefined when the worker may join: it must speak this protocol version (in the hello
 * and its envelope), have loaded the same dataset (by fingerprint) and run the same model. Echoed peer text is cut
 * short, so a hostile hello cannot flood the log.
 */
export function admissionProblem(hello: Hello, envelopeVersion: number, terms: AdmissionTerms): { code: ErrorCode; reason: string } | undefined {
  if (envelopeVersion !== PROTOCOL_VERSION || hello.protocolVersion !== PROTOCOL_VERSION) {
    return { code: 'ERR_PROTOCOL_VERSION',
      reason: `protocol version ${hello.protocolVersion} (envelope ${envelopeVersion}), coordinator speaks ${PROTOCOL_VERSION}` };
  }
  if (hello.datasetFingerprint !== terms.datasetFingerprint) {
    return { code: 'ERR_DATASET_MISMATCH',
      reason: `dataset fingerprint ${hello.datasetFingerprint.slice(0, 16)} differs from the coordinator's ${terms.datasetFingerprint.slice(0, 16)}` };
  }
  if (hello.modelKind !== terms.modelKind) {
    return { code: 'ERR_MODEL_MISMATCH', reason: `model '${boundedText(hello.modelKind, 40)}' differs from the coordinator's '${terms.modelKind}'` };
  }
  return undefined;
}
