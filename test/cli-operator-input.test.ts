import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { decodeMessage, encodeMessage } from '../shared/protocol/codec.js';
import { workerId } from '../shared/protocol/ids.js';
import { MAX_SEED } from '../scripts/cli/option-tables.js';
import { dataArgs, spawnCli } from './helpers/processes.js';

// A careless operator's mistakes end the real CLI before the dataset loads and before any training: exit code 2 and
// ONE line on stderr naming the flag, never a stack trace, never a run that trains and then fails (issue 15, 5-7).

const scratch = mkdtempSync(path.join(tmpdir(), 'ddp-operator-'));
const aFile = path.join(scratch, 'a-file');
writeFileSync(aFile, 'not a folder');
const zipIsFolder = path.join(scratch, 'zip-is-folder');
mkdirSync(path.join(zipIsFolder, 'images_background.zip'), { recursive: true });

async function refused(args: readonly string[]): Promise<{ code: number | string; stderr: string }> {
  const p = spawnCli(args);
  const code = await p.exited;
  return { code, stderr: p.log.lines.map((l) => (l.raw === true ? l.msg : JSON.stringify(l))).join('\n') };
}

const CASES: readonly [string, readonly string[], RegExp][] = [
  ['a seed past 64 bits', ['--seed', '99999999999999999999'], /^omniglot-ddp: --seed \(command line\): .* not a whole number/],
  ['a seed past the 32 bits the generators use', ['--seed', String(MAX_SEED + 1)], /--seed \(command line\): 4294967296 is above the maximum 4294967295/],
  ['momentum 2', ['--momentum', '2'], /--momentum \(command line\): 2 must be below 1/],
  ['momentum 1', ['--momentum=1'], /--momentum \(command line\): 1 must be below 1/],
  ['a batch larger than any training split', ['--batch-size', '100000000'], /--batch-size \(command line\): 100000000 is above the maximum/],
  ['more alphabets than the dataset has', ['--alphabets', '99'], /--alphabets \(command line\): 99 is above the maximum 30/],
  ['a stray positional argument', ['oops'], /unexpected argument 'oops'/],
  ['--run-dir naming a file', ['--run-dir', aFile], /--run-dir \(command line\): .*a-file is a file, not a folder/],
  ['--run-dir under a file', ['--run-dir', path.join(aFile, 'run')], /--run-dir \(command line\): .* lies under .*a-file, which is a file/],
  ['--save-weights in a missing folder', ['--save-weights', path.join(scratch, 'missing', 'w.bin')], /--save-weights \(command line\): folder .*missing does not exist/],
  ['--save-weights naming a folder', ['--save-weights', scratch], /--save-weights \(command line\): .* is a folder/],
  ['--checkpoint-dir naming a file', ['--checkpoint-dir', aFile], /--checkpoint-dir \(command line\): .*a-file is a file, not a folder/],
  ['a boolean given a value', ['--augment=false'], /--augment takes no value/],
  ['a warmup without the scaling rule', ['--warmup-epochs', '2'], /--warmup-epochs: 2 needs --lr-scaling linear/],
  ['a warmup longer than the run', ['--lr-scaling', 'linear', '--warmup-epochs', '3'], /--warmup-epochs: 3 is more than the 1 --epochs/],
  ['an unknown lr scaling', ['--lr-scaling', 'quadratic'], /--lr-scaling \(command line\): 'quadratic' is not one of none, linear/],
  ['a target past 1', ['--target', 'alphabet=1.5'], /--target: alphabet=1\.5 is not an accuracy in \(0, 1\]/],
  ['zero samples per worker', ['--batch-per-worker', '0'], /--batch-per-worker \(command line\): 0 is below the minimum 1/],
];

for (const [what, args, message] of CASES) {
  test.serial(`train refuses ${what}: one line, exit 2, nothing loaded`, async (t) => {
    const r = await refused(['train', '--epochs', '1', ...dataArgs(2), ...args]);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
    t.regex(r.stderr, /\[ERR_BAD_CONFIG\]$/);
    t.is(r.stderr.split('\n').length, 1, r.stderr);
  });
}

test('an images_background.zip that is a folder is named in one line', async (t) => {
  const r = await refused(['train', '--epochs', '1', '--no-download', '--data-dir', zipIsFolder]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /images_background\.zip is not a file .*\[ERR_DATASET_MISSING\]$/);
  t.is(r.stderr.split('\n').length, 1, r.stderr);
});

test('a batch larger than the loaded training split is refused before training', async (t) => {
  // Two alphabets have 784 training images: within the table's bound, past the split's.
  const r = await refused(['train', '--epochs', '1', ...dataArgs(2), '--batch-size', '1000', '--log-level', 'error']);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /--batch-size: 1000 is more than the 784 images of the training split \[ERR_BAD_CONFIG\]$/);
  t.is(r.stderr.split('\n').length, 1, r.stderr);
});

test('`keys --out` naming a file, and stray arguments to other commands, are one line and exit 2', async (t) => {
  const keys = await refused(['keys', '--out', aFile]);
  t.is(keys.code, 2, keys.stderr);
  t.regex(keys.stderr, /^omniglot-ddp: --out \(command line\): .*a-file is a file, not a folder \[ERR_BAD_CONFIG\]$/);
  const worker = await refused(['worker', 'tcp://127.0.0.1:5555']);
  t.is(worker.code, 2, worker.stderr);
  t.regex(worker.stderr, /unexpected argument 'tcp:\/\/127\.0\.0\.1:5555'/);
  const evaluate = await refused(['evaluate', scratch, scratch]);
  t.is(evaluate.code, 2, evaluate.stderr);
  t.regex(evaluate.stderr, /evaluate takes one model folder, got 2 arguments/);
});

test('the largest accepted seed crosses the wire exactly', (t) => {
  const decoded = decodeMessage(encodeMessage({ type: 'welcome', workerId: workerId('w-1'), heartbeatIntervalMs: 1000, workerTimeoutMs: 10_000,
    modelKind: 'two-output', seed: MAX_SEED }));
  t.true(decoded.ok);
  t.is(decoded.ok && decoded.message.type === 'welcome' ? decoded.message.seed : undefined, MAX_SEED);
});
