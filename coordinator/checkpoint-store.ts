import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../shared/common/atomic-file.js';
import { DdpError } from '../shared/common/errors.js';
import type { Logger } from '../shared/common/logger.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.js';
import type { TrainingState } from './training-state.js';

const FILE_PATTERN = /^ckpt-(\d{9,})\.bin$/;

export interface CheckpointStoreOptions {
  readonly dir: string;
  /** Newest checkpoints kept; older ones are deleted after each save. */
  readonly keep: number;
  readonly log: Logger;
}

/**
 * A folder of checkpoints named by global step (ckpt-000001234.bin). Each is written atomically (temp file, fsync,
 * rename, fsync of the folder), so a crash mid-save leaves the previous ones intact; a file damaged later is caught by
 * its checksum on load and skipped for the one before it.
 *
 * Pruning deletes only files it has read back whole as checkpoints (so junk named like one, or a damaged file, is
 * left alone and never pushes a valid one out), and never the file just written: the newest valid state.
 */
export class CheckpointStore {
  private readonly log: Logger;
  /** Files already read back, by path: whether they were whole, and the size and mtime that verdict is for. */
  private readonly verified = new Map<string, { readonly valid: boolean; readonly size: number; readonly mtimeMs: number }>();

  constructor(private readonly options: CheckpointStoreOptions) {
    if (!Number.isInteger(options.keep) || options.keep < 1) {
      throw new DdpError('ERR_BAD_CONFIG', `checkpoint keep count must be a whole number >= 1, got ${options.keep}`);
    }
    this.log = options.log.child({ component: 'checkpoints' });
  }

  get dir(): string {
    return this.options.dir;
  }

  /** The file a state at `globalStep` is saved to. */
  pathFor(globalStep: number): string {
    return path.join(this.options.dir, `ckpt-${String(globalStep).padStart(9, '0')}.bin`);
  }

  /**
   * Writes `state` atomically, then prunes: the file just written and the highest-numbered valid others, `keep` in
   * all, stay. Resolves with the file written.
   */
  async save(state: TrainingState): Promise<string> {
    await mkdir(this.options.dir, { recursive: true });
    const file = this.pathFor(state.globalStep);
    await writeFileAtomic(file, encodeCheckpoint(state));
    // Written whole just now: no need to read it back when it is an older one at a later prune.
    const info = await stat(file);
    this.verified.set(file, { valid: true, size: info.size, mtimeMs: info.mtimeMs });
    this.log.info({ path: file, epoch: state.epoch, stepInEpoch: state.stepInEpoch, globalStep: state.globalStep },
      'checkpoint saved');
    await this.prune(file);
    return file;
  }

  private async prune(written: string): Promise<void> {
    const others = (await this.list()).filter((f) => f.path !== written);
    const kept = this.options.keep - 1;
    let validSeen = 0;
    for (const f of others) {
      if (!(await this.isWhole(f.path))) continue;
      validSeen += 1;
      if (validSeen > kept) {
        await rm(f.path, { force: true });
        this.verified.delete(f.path);
      }
    }
  }

  /** Whether a file reads back as a whole checkpoint; remembered while its size and mtime stay the same. */
  private async isWhole(file: string): Promise<boolean> {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return false;
    const known = this.verified.get(file);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.valid;
    let valid = true;
    try {
      decodeCheckpoint(await readFile(file));
    } catch (error) {
      valid = false;
      this.log.warn({ path: file, reason: (error as Error).message, code: 'ERR_CHECKPOINT_CORRUPT' },
        'not pruning a file that does not read back as a checkpoint: left as it is');
    }
    this.verified.set(file, { valid, size: info.size, mtimeMs: info.mtimeMs });
    return valid;
  }

  /** Checkpoint files, newest (highest step) first. */
  async list(): Promise<{ readonly step: number; readonly path: string }[]> {
    let names: string[];
    try {
      names = await readdir(this.options.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.flatMap((name) => {
      const m = FILE_PATTERN.exec(name);
      return m ? [{ step: Number(m[1]), path: path.join(this.options.dir, name) }] : [];
    }).sort((a, b) => b.step - a.step);
  }

  /**
   * The newest checkpoint that reads back whole. Each one that does not (checksum, truncation, unreadable) is logged
   * with ERR_CHECKPOINT_CORRUPT and passed over for the one before it. Undefined when none is valid.
   */
  async loadNewestValid(): Promise<{ readonly state: TrainingState; readonly path: string } | undefined> {
    for (const file of await this.list()) {
      try {
        return { state: decodeCheckpoint(await readFile(file.path)), path: file.path };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.log.warn({ path: file.path, reason, code: 'ERR_CHECKPOINT_CORRUPT' },
          `skipping a corrupt checkpoint: ${reason}`);
      }
    }
    return undefined;
  }
}
