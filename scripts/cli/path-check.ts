import { accessSync, constants, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/**
 * What a path flag must name, checked when the flag is parsed, so that a bad path fails before the dataset loads and
 * before any training, rather than as a stack trace at the end of an epoch:
 * - `file`: an existing file to read;
 * - `folder`: an existing folder to read;
 * - `output-file`: a file to write: not a folder, in a folder that exists and is writable;
 * - `output-folder`: a folder to write into, made when missing: a folder, or a path no file stands in the way of.
 */
export type PathKind = 'file' | 'folder' | 'output-file' | 'output-folder';

function statOf(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nearest existing path at or above `p`, with its stat. */
function nearestExisting(p: string): { readonly at: string; readonly stat: Stats } | undefined {
  for (let at = path.resolve(p); ; at = path.dirname(at)) {
    const stat = statOf(at);
    if (stat) return { at, stat };
    if (path.dirname(at) === at) return undefined;
  }
}

/** Why `p` cannot serve as `kind`, or undefined when it can. Pure apart from reading the file system. */
export function pathProblem(p: string, kind: PathKind): string | undefined {
  const stat = statOf(p);
  switch (kind) {
    case 'file':
      if (!stat) return `${p} does not exist`;
      return stat.isFile() ? undefined : `${p} is not a file`;
    case 'folder':
      if (!stat) return `${p} does not exist`;
      return stat.isDirectory() ? undefined : `${p} is not a folder`;
    case 'output-file': {
      if (stat?.isDirectory()) return `${p} is a folder; give a file name in it`;
      const dir = path.dirname(path.resolve(p));
      const parent = statOf(dir);
      if (!parent) return `folder ${dir} does not exist`;
      if (!parent.isDirectory()) return `${dir} is not a folder`;
      return writable(dir) ? undefined : `folder ${dir} is not writable`;
    }
    case 'output-folder': {
      if (stat) {
        if (!stat.isDirectory()) return `${p} is a file, not a folder`;
        return writable(p) ? undefined : `folder ${p} is not writable`;
      }
      const above = nearestExisting(p);
      if (!above) return `no folder above ${p} exists`;
      if (!above.stat.isDirectory()) return `${p} lies under ${above.at}, which is a file`;
      return writable(above.at) ? undefined : `folder ${above.at} is not writable, so ${p} cannot be made`;
    }
  }
}
