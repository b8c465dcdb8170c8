import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './fixtures.js';

const run = promisify(execFile);

export type SlurmAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * A one-node Slurm cluster on this machine, started (or found running) by scripts/deploy/slurm/local-cluster.sh,
 * which .ci/run also calls. Where it cannot start (not root, no packages, daemons refuse) the reason comes back
 * for the test to skip with.
 */
export async function localSlurm(): Promise<SlurmAvailability> {
  try {
    await run('bash', [path.join(repoRoot, 'scripts/deploy/slurm/local-cluster.sh')], { timeout: 300_000 });
    return { ok: true };
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const reason = (e.stderr ?? '').trim().split('\n').pop() || e.message;
    return { ok: false, reason: reason.replace(/^local-cluster: /, '') };
  }
}
