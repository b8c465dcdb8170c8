import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { DdpError } from '../common/errors.js';
import { datasetError, describeError } from './errors.js';
import type { OmniglotSet } from './omniglot-layout.js';
import { ZipReader } from './zip-reader.js';

/** The official source (Lake et al.); files are fetched as `${base}images_<set>.zip`. */
export const OFFICIAL_BASE_URL = 'https://github.com/brendenlake/omniglot/raw/master/python/';
/** Overrides the base URL, for mirrors and for tests that must never reach the internet. */
export const DOWNLOAD_URL_ENV = 'OMNIGLOT_DOWNLOAD_URL';

export interface DownloadOptions {
  /** Base URL ending in '/'; default env OMNIGLOT_DOWNLOAD_URL, else the official repository. */
  readonly baseUrl?: string;
  /** Whole-download limit; default 5 minutes (the zips are 6-9 MB). */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

export function zipFileName(set: OmniglotSet): string {
  return `images_${set}.zip`;
}

/**
 * Fetches images_<set>.zip into `cacheDir` and returns its path. The file only appears under its final name once
 * complete and readable as a zip, so an interrupted download is retried next time instead of served.
 * Throws ERR_DOWNLOAD naming the URL on any network, HTTP or content failure.
 */
export async function downloadOmniglotZip(set: OmniglotSet, cacheDir: string, options: DownloadOptions = {}): Promise<string> {
  const base = options.baseUrl ?? process.env[DOWNLOAD_URL_ENV] ?? OFFICIAL_BASE_URL;
  const url = new URL(zipFileName(set), base.endsWith('/') ? base : `${base}/`).href;
  const target = path.join(cacheDir, zipFileName(set));
  const fail = (why: string, cause?: unknown): DdpError =>
    datasetError(
      'ERR_DOWNLOAD',
      `Cannot download the Omniglot ${set} set from ${url}: ${why}. Download it by hand into ${cacheDir}, or point ` +
        `--data-dir or OMNIGLOT_DIR at a folder holding ${zipFileName(set)}.`,
      cause,
    );
  options.log?.info({ url, target }, 'downloading dataset');
  const started = Date.now();
  let body: Buffer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 300_000), redirect: 'follow' });
    if (!response.ok) throw fail(`HTTP ${response.status} ${response.statusText}`);
    body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    if (error instanceof DdpError) throw error;
    // fetch hides the socket error (ECONNREFUSED, ENOTFOUND) in `cause`; that is the part worth showing.
    const cause = (error as { cause?: unknown }).cause;
    throw fail(cause === undefined ? describeError(error) : `${describeError(error)} (${describeError(cause)})`, error);
  }
  try {
    const entries = ZipReader.fromBuffer(url, body).entries.length;
    if (entries === 0) throw new Error('the zip is empty');
  } catch (error) {
    throw fail(`the response (${body.length} bytes) is not a readable zip: ${describeError(error)}`, error);
  }
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(target, [body]);
  options.log?.info({ url, target, bytes: body.length, ms: Date.now() - started }, 'downloaded dataset');
  return target;
}
