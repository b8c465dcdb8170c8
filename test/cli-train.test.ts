import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import sharp from 'sharp';
import { ZipReader } from '../shared/dataset/zip-reader.js';
import { omniglotDir, testCacheDir } from './helpers/fixtures.js';
import { runCli, type CliExit } from './helpers/processes.js';

/** Runs the CLI and insists that it succeeded, showing its stderr when it did not. */
async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliExit> {
  const exit = await runCli(args, { env });
  if (exit.code !== 0) throw new Error(`${args.join(' ')} exited ${exit.code}: ${exit.stderr.slice(-2000)}`);
  return exit;
}

test('train leaves a run folder; evaluate and predict read its exported model', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cli-train-'));
  try {
    const runDir = path.join(dir, 'run');
    // --epochs from the environment and --batch-size from a config file: the run folder records both sources.
    const config = path.join(dir, 'run.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(config, JSON.stringify({ 'batch-size': 64, augment: true })));
    const { stdout } = await cli(['train', '--workers', '2', '--alphabets', '2', '--data-dir', omniglotDir, '--cache-dir', testCacheDir,
      '--run-dir', runDir, '--config', config, '--log-level', 'warn'], { OMNIGLOT_DDP_EPOCHS: '1' });
    // Not a terminal: no progress line, only the epoch's result line.
    t.regex(stdout, /^epoch 1\/1 {2}test \(196 images\): alphabet acc \d\.\d{3}/m);
    t.false(stdout.includes('\r'));

    const configJson = JSON.parse(await readFile(path.join(runDir, 'config.json'), 'utf8')) as { values: Record<string, unknown>; sources: Record<string, string> };
    t.is(configJson.values['epochs'], 1);
    t.is(configJson.sources['epochs'], 'env');
    t.is(configJson.sources['batch-size'], 'config');
    t.is(configJson.sources['workers'], 'flag');
    t.is(configJson.sources['lr'], 'default');

    const lines = (await readFile(path.join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = lines.filter((l) => l['type'] === 'step');
    const epochs = lines.filter((l) => l['type'] === 'epoch');
    t.is(steps.length, Math.ceil(784 / 64));
    t.is(epochs.length, 1);
    t.deepEqual(Object.keys(steps[0]!['loss'] as object), ['alphabet', 'character']);
    t.is(steps[0]!['lr'], 0.01);
    t.like(epochs[0], { workers: 2, weighting: { strategy: 'fixed', weights: { alphabet: 1, character: 1 } } });
    // Agreement, checked against the head accuracies it must be consistent with: images where the alphabet head
    // (accuracy A) and the character head's implied alphabet (accuracy I) are both right agree, and those where one
    // is right and the other wrong do not, so it lies in [max(0, A + I - 1), 1 - |A - I|]. A right character
    // implies its right alphabet, so I is at least the character accuracy.
    const agreement = epochs[0]!['agreement'] as { count: number; agreeRate: number; impliedAlphabetAccuracy: number };
    const testHeads = epochs[0]!['test'] as Record<string, { accuracy: number }>;
    const [a, i, rate] = [testHeads['alphabet']!.accuracy, agreement.impliedAlphabetAccuracy, agreement.agreeRate];
    t.is(agreement.count, 196, 'every test image counted once');
    t.true(Math.abs(rate * 196 - Math.round(rate * 196)) < 1e-6, `agree rate ${rate} is a whole number of images`);
    t.true(rate >= Math.max(0, a + i - 1) - 1e-9 && rate <= 1 - Math.abs(a - i) + 1e-9, `agree ${rate}, alphabet ${a}, implied ${i}`);
    t.true(i >= testHeads['character']!.accuracy - 1e-9, `implied alphabet accuracy ${i}`);

    for (const png of ['loss.png', 'accuracy.png']) {
      const meta = await sharp(path.join(runDir, png)).metadata();
      t.is(meta.format, 'png');
      t.true(meta.width > 100);
    }
    const summary = JSON.parse(await readFile(path.join(runDir, 'summary.json'), 'utf8')) as { finished: boolean; epochs: number };
    t.true(summary.finished);
    t.is(summary.epochs, 1);
    t.true((await stat(path.join(runDir, 'model', 'weights.bin'))).size > 8_000_000);

    const evaluated = await cli(['evaluate', runDir, '--alphabets', '2', '--data-dir', omniglotDir, '--cache-dir', testCacheDir,
      '--json', '--log-level', 'warn']);
    const report = JSON.parse(evaluated.stdout) as { count: number; heads: { head: string; accuracy: number }[]; perAlphabet: unknown[] };
    t.is(report.count, 196);
    const accuracy = (lines.find((l) => l['type'] === 'epoch')!['test'] as Record<string, { accuracy: number }>);
    // The export is the model the coordinator evaluated: the same accuracy on the same split.
    for (const h of report.heads) t.true(Math.abs(h.accuracy - accuracy[h.head]!.accuracy) < 1e-9, h.head);
    t.is(report.perAlphabet.length, 2);

    const zip = await ZipReader.open(path.join(omniglotDir, 'images_background.zip'));
    const entry = zip.get('images_background/Alphabet_of_the_Magi/character01/0709_17.png')!;
    const image = path.join(dir, 'glyph.png');
    await import('node:fs/promises').then((fs) => fs.writeFile(image, zip.read(entry)));
    const predicted = await cli(['predict', '--model-dir', runDir, image, '--json', '--log-level', 'warn']);
    const [result] = JSON.parse(predicted.stdout) as { alphabets: { name: string; probability: number }[]; characters: { name: string }[] }[];
    t.is(result!.alphabets.length, 5);
    t.is(result!.characters.length, 5);
    t.true(result!.alphabets.some((a) => a.name === 'Alphabet_of_the_Magi'));
    t.true(result!.alphabets[0]!.probability >= result!.alphabets[1]!.probability);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every command answers --help; bad flags exit 2 with one line', async (t) => {
  for (const command of ['train', 'coordinator', 'worker', 'evaluate', 'predict']) {
    const { stdout } = await cli([command, '--help']);
    t.regex(stdout, new RegExp(`^Usage: omniglot-ddp ${command} \\[flags\\]`), command);
    t.regex(stdout, /Precedence: command line > environment > --config JSON file > default/);
  }
  const { stdout } = await cli(['--help']);
  for (const command of ['evaluate', 'predict']) t.regex(stdout, new RegExp(`^ {2}${command} `, 'm'));
  const failed = await runCli(['train', '--epochs', 'many']);
  t.is(failed.code, 2);
  t.regex(failed.stderr, /--epochs \(command line\): 'many' is not a number \[ERR_BAD_CONFIG\]/);
});
