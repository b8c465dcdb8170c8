import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { runCli } from './helpers/processes.js';

// Bad local input ends the CLI before any training, with one line naming the thing and the reason, and a non-zero
// exit: real child processes, as a user would see them.
const cli = (args: readonly string[]) => runCli(args, { timeoutMs: 60_000 });

const scratch = mkdtempSync(path.join(tmpdir(), 'ddp-bad-input-'));
const dataDir = (name: string, zip?: Buffer): string => {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  if (zip) writeFileSync(path.join(dir, 'images_background.zip'), zip);
  return dir;
};
const train = (...args: string[]) => cli(['train', '--no-download', '--cache-dir', path.join(scratch, 'cache'), '--epochs', '1', ...args]);

test('a missing dataset is named, and nothing trains', async (t) => {
  const dir = dataDir('empty');
  const r = await train('--data-dir', dir);
  t.not(r.code, 0);
  t.regex(r.stderr, /ERR_DATASET_MISSING/);
  t.true(r.stderr.includes(dir), r.stderr);
  t.notRegex(r.stderr, /coordinator listening/);
});

test('a corrupt dataset zip is named', async (t) => {
  const r = await train('--data-dir', dataDir('corrupt', Buffer.from('PK\u0003\u0004 this is not a zip at all'.repeat(20))));
  t.not(r.code, 0);
  t.regex(r.stderr, /ERR_DATASET_CORRUPT/);
  t.regex(r.stderr, /images_background\.zip/);
});

test('bad flags and an unknown model are named, with exit code 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--model', 'resnet'], /--model \(command line\): 'resnet' is not one of two-output, two-input/],
    [['--epochs', 'zero'], /--epochs \(command line\): 'zero' is not a number/],
    [['--batch-size', '0'], /--batch-size \(command line\): 0 is below the minimum 1/],
    [['--frobnicate'], /unknown flag --frobnicate/],
    [['--lr-schedule', 'sometimes'], /--lr-schedule: 'sometimes'/],
    [['--bind', 'tcp://0.0.0.0:*'], /ERR_INSECURE_BIND/],
  ];
  for (const [args, message] of cases) {
    const r = await train(...args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message);
    t.regex(r.stderr, /ERR_/);
  }
});

test('bad CURVE settings are named, with exit code 2', async (t) => {
  const key = path.join(scratch, 'not-a.key');
  writeFileSync(key, '# a comment\nthis is not a key\n');
  const cases: [string[], RegExp][] = [
    [['coordinator', '--allow-list', key], /--allow-list and --curve-public-key-file need --curve-secret-key-file/],
    [['coordinator', '--curve-secret-key-file', key, '--allow-list', key], /--curve-secret-key-file .*not-a\.key:2: not a 40-character Z85 CURVE key/],
    [['coordinator', '--curve-secret-key-file', path.join(scratch, 'missing.key'), '--allow-list', key], /missing\.key: ENOENT/],
    [['worker', '--coordinator-key', 'abc'], /--coordinator-key needs --curve-secret-key-file/],
  ];
  for (const [args, message] of cases) {
    const r = await cli([...args, '--no-download', '--data-dir', dataDir('empty')]);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message);
  }
});
