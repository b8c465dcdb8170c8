import { DdpError, type ErrorCode } from '../common/errors.js';

/**
 * The codes of the project catalogue (shared/common/errors.ts) that the dataset raises, all as DdpError:
 * - ERR_DATASET_MISSING: no zip where dir / OMNIGLOT_DIR point, or nothing cached and download off.
 * - ERR_DATASET_CORRUPT: a damaged zip (signature, truncation, CRC or size mismatch, bad deflate data), or an intact
 *   zip without the Omniglot layout (message "Unexpected layout in ...").
 * - ERR_IMAGE_DECODE: an entry that is not a PNG sharp can decode.
 * - ERR_DOWNLOAD: fetching the zip failed (offline, HTTP error, not a zip).
 */
export type DatasetErrorCode = Extract<ErrorCode, 'ERR_DATASET_MISSING' | 'ERR_DATASET_CORRUPT' | 'ERR_IMAGE_DECODE' | 'ERR_DOWNLOAD'>;

export function datasetError(code: DatasetErrorCode, message: string, cause?: unknown): DdpError {
  return new DdpError(code, message, cause === undefined ? {} : { cause });
}

export function isDatasetError(error: unknown, code?: DatasetErrorCode): error is DdpError {
  return error instanceof DdpError && (code === undefined || error.code === code);
}

/** The message of anything thrown, for wrapping a library error into one of ours. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
