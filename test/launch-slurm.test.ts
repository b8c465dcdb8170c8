import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { readWeightsFile } from '../coordinator/weights-file.js';
import { omniglotDir, testCacheDir } from './helpers/fixtures.js';
import { CLI } from './helpers/processes.js';
import { localSlurm } from './helpers/slurm.js';
import { maxRelativeDifference } from './helpers/tolerance.js';

const run = promisify(execFile);
const slurm = await localSlurm();
const TITLE = 'srun -n 3 omniglot-ddp launch trains one epoch on two alphabets; the weights equal train --workers 2 within 1e-4';

/** The same run both ways: seed, global batch, data, one epoch. */
const RUN = ['--epochs=1', '--alphabets=2', `--data-dir=${omniglotDir}`, `--cache-dir=${testCacheDir}`, '--no-download', '--seed=11',
  '--batch-size=32', '--log-level=warn'];

function maxAbsDifference(a: readonly { data: Float32Array }[], b: readonly { data: Float32Array }[]): number {
  let worst = a.length === b.length ? 0 : Number.POSITIVE_INFINITY;
  a.forEach((t, i) => t.data.forEach((x, k) => { worst = Math.max(worst, Math.abs(x - (b[i]?.data[k] ?? Number.NaN))); }));
  return worst;
}

(slurm.ok ? test.serial : test.serial.skip)(slurm.ok ? TITLE : `${TITLE} (skipped: ${slurm.reason})`, async (t) => {
  t.timeout(9 * 60_000);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'launch-slurm-'));
  try {
    // CURVE from a keys folder, as on a cluster (on one node launch would not need it).
    await run(process.execPath, [CLI, 'keys', `--out=${dir}/keys`, '--workers=2', '--log-level=warn']);
    const launched = await run('srun', ['-n', '3', '--immediate=120', '--kill-on-bad-exit=1', `--chdir=${dir}`, process.execPath, CLI, 'launch', ...RUN,
      `--keys-dir=${dir}/keys`, `--checkpoint-dir=${dir}/checkpoints`, `--save-weights=${dir}/launch.weights`, `--run-dir=${dir}/launch-run`],
    { timeout: 240_000, maxBuffer: 16 << 20 });
    // Exactly one task became the coordinator and reported the epoch, with both workers.
    const epochLines = launched.stdout.split('\n').filter((l) => l.startsWith('epoch 1/1'));
    t.is(epochLines.length, 1);
    t.regex(epochLines[0] ?? '', /, 2 workers$/);

    await run(process.execPath, [CLI, 'train', '--workers=2', ...RUN, `--save-weights=${dir}/local.weights`, `--run-dir=${dir}/local-run`],
      { timeout: 240_000, maxBuffer: 16 << 20, cwd: dir });
    const [viaSlurm, local] = await Promise.all([readWeightsFile(`${dir}/launch.weights`), readWeightsFile(`${dir}/local.weights`)]);
    const abs = maxAbsDifference(viaSlurm, local);
    t.log(`max |launch - train| over ${viaSlurm.length} tensors: ${abs.toExponential(2)} (relative ${maxRelativeDifference(viaSlurm, local).toExponential(2)})`);
    t.true(abs <= 1e-4, `weights differ by ${abs}`);
    t.deepEqual(viaSlurm.map((w) => w.name), local.map((w) => w.name));

    // A coordinator started again on the same checkpoint folder resumes: the one epoch is done, so it ends at once.
    const again = await run(process.execPath, [CLI, 'launch', '--cluster=env', '--role=coordinator', ...RUN.filter((a) => a !== '--log-level=warn'),
      '--log-level=info', `--checkpoint-dir=${dir}/checkpoints`, `--run-dir=${dir}/resumed-run`], { timeout: 120_000, maxBuffer: 16 << 20, cwd: dir });
    const lines = again.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; resume?: boolean });
    t.like(lines.find((l) => l.msg.startsWith('launch:')), { resume: true, msg: 'launch: env says this process is the coordinator' });
    t.truthy(lines.find((l) => l.msg === 'resuming from checkpoint'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
