import type { ParsedOptions } from './options.js';
import { defaultCacheDir, isDatasetError, type OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Logger } from '../../shared/common/logger.js';
import type { ClientSecurity } from '../../worker/client-security.js';
import { fetchDataset } from '../../worker/dataset-fetch.js';
import type { DATA_OPTIONS } from './option-tables.js';
import { loadDataset } from './run-coordinator.js';

/**
 * A worker's dataset: its own copy when it has one (--data-dir, OMNIGLOT_DIR, or a zip in the cache folder), else
 * the coordinator's decoded set, received over the run's socket and cached. A worker never downloads: the
 * coordinator's copy is the one the run uses, so a cluster needs the zip on one node only.
 */
export async function loadWorkerDataset(values: ParsedOptions<typeof DATA_OPTIONS>['values'], connect: string,
  security: ClientSecurity, log: Logger): Promise<OmniglotData> {
  try {
    return await loadDataset({ ...values, download: false }, log);
  } catch (error) {
    if (!isDatasetError(error, 'ERR_DATASET_MISSING')) throw error;
    log.warn({ reason: error.message }, 'no local copy of the dataset: asking the coordinator for it');
    const cacheDir = typeof values['cache-dir'] === 'string' ? values['cache-dir'] : defaultCacheDir();
    return fetchDataset({ connect, security, cacheDir, log });
  }
}
