import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { downloadOmniglotZip, zipFileName } from './download.js';
import { datasetError } from './errors.js';
import type { OmniglotSet } from './omniglot-layout.js';

export const DATA_DIR_ENV = 'OMNIGLOT_DIR';

export interface LocateOptions {
  readonly dir?: string;
  readonly cacheDir: string;
  readonly download: boolean;
  readonly downloadUrl?: string;
  readonly log: Logger;
}

const HOW_TO_FIX = `pass --data-dir (LoadOptions.dir) or set ${DATA_DIR_ENV} to a folder holding it, or allow the download`;

/**
 * Finds images_<set>.zip: in `dir` if given, else in $OMNIGLOT_DIR, else already in the cache folder, else downloads
 * it there. An explicit folder is never second-guessed: if it lacks the zip, that is an error, not a reason to look
 * elsewhere. Throws ERR_DATASET_MISSING naming the path looked at, or ERR_DOWNLOAD.
 */
export async function locateZip(set: OmniglotSet, options: LocateOptions): Promise<string> {
  const name = zipFileName(set);
  const fromEnv = process.env[DATA_DIR_ENV];
  const explicit = options.dir ?? (fromEnv ? fromEnv : undefined);
  if (explicit !== undefined) {
    const source = options.dir !== undefined ? 'the data folder' : `${DATA_DIR_ENV}`;
    const folder = path.resolve(explicit);
    const isFolder = await stat(folder).then((s) => s.isDirectory(), () => false);
    if (!isFolder) {
      throw datasetError('ERR_DATASET_MISSING', `Omniglot data folder ${folder} (from ${source}) does not exist; ${HOW_TO_FIX}.`);
    }
    const zip = path.join(folder, name);
    if (!(await exists(zip))) {
      throw datasetError('ERR_DATASET_MISSING', `No ${name} in ${folder} (from ${source}); put it there, or ${HOW_TO_FIX}.`);
    }
    if (!(await stat(zip)).isFile()) throw datasetError('ERR_DATASET_MISSING', `${zip} is not a file (a folder?); it must be the ${name} of the Omniglot release.`);
    return zip;
  }
  const cached = path.join(options.cacheDir, name);
  if (await exists(cached)) return cached;
  if (!options.download) {
    throw datasetError('ERR_DATASET_MISSING', `No ${name}: none at ${cached} and download is off; ${HOW_TO_FIX}.`);
  }
  return downloadOmniglotZip(set, options.cacheDir, {
    log: options.log,
    ...(options.downloadUrl !== undefined && { baseUrl: options.downloadUrl }),
  });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
