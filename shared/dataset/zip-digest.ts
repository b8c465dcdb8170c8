import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';

interface KnownDigest {
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

const INDEX_FILE = 'zip-digests.json';

/**
 * sha256 of a zip, remembered in `cacheDir` by absolute path, size and mtime, so that a cache hit need not read the
 * zip at all; any change to size or mtime rehashes. The index is an optimisation only: unreadable means rehash,
 * unwritable is ignored.
 */
export async function zipDigest(zipPath: string, cacheDir: string): Promise<string> {
  const absolute = path.resolve(zipPath);
  const { size, mtimeMs } = await stat(absolute);
  const indexPath = path.join(cacheDir, INDEX_FILE);
  const index = await readIndex(indexPath);
  const known = index[absolute];
  if (known && known.size === size && known.mtimeMs === mtimeMs) return known.sha256;
  const sha256 = createHash('sha256').update(await readFile(absolute)).digest('hex');
  index[absolute] = { size, mtimeMs, sha256 };
  await writeFileAtomic(indexPath, [Buffer.from(JSON.stringify(index, null, 1))]).catch(() => undefined);
  return sha256;
}

async function readIndex(indexPath: string): Promise<Record<string, KnownDigest>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(indexPath, 'utf8'));
    const index: Record<string, KnownDigest> = {};
    if (typeof parsed !== 'object' || parsed === null) return index;
    for (const [key, value] of Object.entries(parsed)) if (isKnownDigest(value)) index[key] = value;
    return index;
  } catch {
    return {};
  }
}

function isKnownDigest(value: unknown): value is KnownDigest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['size'] === 'number' && typeof v['mtimeMs'] === 'number' && typeof v['sha256'] === 'string' && /^[0-9a-f]{64}$/.test(v['sha256']);
}
