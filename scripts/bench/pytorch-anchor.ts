import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The PyTorch anchor's run script: $PYTORCH_ANCHOR, else shared/ beside the checkout (the main checkout, or a worktree
 * one level further down).
 */
export function anchorPath(): string {
  const fromEnv = process.env['PYTORCH_ANCHOR'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const candidates = ['../shared/anchors/pytorch/run', '../../shared/anchors/pytorch/run'].map((p) => path.resolve(repoRoot, p));
  return candidates.find((p) => existsSync(p)) ?? (candidates[0] as string);
}

/** Runs the anchor with `args` and parses its last stdout line (its JSON summary). */
export async function runAnchor(args: readonly string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(anchorPath(), [...args], { maxBuffer: 16 << 20 });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as unknown;
  } catch {
    throw new Error(`the anchor printed no JSON summary: ${last.slice(0, 200)}`);
  }
}
