/**
 * Bounds of the dataset transfer (DatasetRequest / DatasetChunk): a chunk is small enough to interleave with other
 * traffic and to hold a few of in memory, and a whole set (79 MB for the full background set) is far below the cap,
 * which keeps a hostile size from making a worker allocate gigabytes.
 */
export const DATASET_CHUNK_BYTES = 4 * 1024 * 1024;
export const MAX_DATASET_BYTES = 1024 * 1024 * 1024;

/** A dataset fingerprint as it travels: sha256, 64 lowercase hex digits. */
export function isFingerprint(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}
