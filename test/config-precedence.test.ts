import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { envName, formatHelp, parseOptions, type OptionTable } from '../scripts/cli/options.js';

const TABLE = {
  config: { type: 'string', help: 'config file' },
  lr: { type: 'number', help: 'rate', default: 0.01, min: 0 },
  epochs: { type: 'int', help: 'epochs', default: 10, min: 1 },
  augment: { type: 'boolean', help: 'augment', default: false },
  'data-dir': { type: 'string', help: 'data', env: 'OMNIGLOT_DIR' },
  model: { type: 'string', help: 'model', default: 'two-output', choices: ['two-output', 'two-input'] },
} as const satisfies OptionTable;

async function withConfig(content: string, body: (file: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'config-'));
  const file = path.join(dir, 'run.json');
  await writeFile(file, content);
  try {
    await body(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('precedence is flag > env > config > default, and sources say which won', async (t) => {
  await withConfig(JSON.stringify({ lr: 0.5, epochs: 3, augment: true, model: 'two-input' }), (file) => {
    const env = { [envName('lr')]: '0.2', [envName('epochs')]: '4' };
    const { values, sources } = parseOptions(TABLE, ['--config', file, '--lr=0.1'], { env });
    t.is(values.lr, 0.1);
    t.is(sources.lr, 'flag');
    t.is(values.epochs, 4);
    t.is(sources.epochs, 'env');
    t.is(values.augment, true);
    t.is(sources.augment, 'config');
    t.is(values.model, 'two-input');
    t.is(values['data-dir'], undefined);
    t.is(sources['data-dir'], 'unset');
    const plain = parseOptions(TABLE, [], { env: {} });
    t.is(plain.values.lr, 0.01);
    t.is(plain.sources.lr, 'default');
  });
});

test('the config file can come from the environment, and a flag still beats it', async (t) => {
  await withConfig(JSON.stringify({ epochs: 7 }), (file) => {
    t.is(parseOptions(TABLE, [], { env: { [envName('config')]: file } }).values.epochs, 7);
    t.is(parseOptions(TABLE, ['--epochs', '2'], { env: { [envName('config')]: file } }).values.epochs, 2);
  });
});

test('an extra env variable name works, and OMNIGLOT_DDP_ beats it', (t) => {
  t.is(parseOptions(TABLE, [], { env: { OMNIGLOT_DIR: '/a' } }).values['data-dir'], '/a');
  t.is(parseOptions(TABLE, [], { env: { OMNIGLOT_DIR: '/a', OMNIGLOT_DDP_DATA_DIR: '/b' } }).values['data-dir'], '/b');
});

test('booleans: bare flag, --no-flag, and env strings', (t) => {
  t.is(parseOptions(TABLE, ['--augment'], { env: {} }).values.augment, true);
  t.is(parseOptions(TABLE, ['--no-augment'], { env: { [envName('augment')]: 'true' } }).values.augment, false);
  t.is(parseOptions(TABLE, [], { env: { [envName('augment')]: '1' } }).values.augment, true);
});

test('unknown flags, unknown config keys and bad values fail with ERR_BAD_CONFIG naming the flag', async (t) => {
  t.throws(() => parseOptions(TABLE, ['--lrr', '1'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /unknown flag --lrr/ });
  t.throws(() => parseOptions(TABLE, ['--epochs', '1.5'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /--epochs.*whole number/ });
  t.throws(() => parseOptions(TABLE, ['--epochs', '0'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /below the minimum/ });
  t.throws(() => parseOptions(TABLE, ['--model', 'three'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /not one of/ });
  t.throws(() => parseOptions(TABLE, ['--lr'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /needs a value/ });
  t.throws(() => parseOptions(TABLE, [], { env: { [envName('lr')]: 'fast' } }), { code: 'ERR_BAD_CONFIG', message: /environment OMNIGLOT_DDP_LR/ });
  await withConfig(JSON.stringify({ learning: 1 }), (file) => {
    t.throws(() => parseOptions(TABLE, ['--config', file], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /unknown key 'learning'/ });
  });
  await withConfig('{ not json', (file) => {
    t.throws(() => parseOptions(TABLE, ['--config', file], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /config file/ });
  });
  await withConfig('[1]', (file) => {
    t.throws(() => parseOptions(TABLE, ['--config', file], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /JSON object/ });
  });
});

test('help lists each flag with its default and env variable, and the precedence', (t) => {
  const help = formatHelp('train', 'Train.', TABLE);
  t.regex(help, /--lr <number>\s+rate \(default 0\.01; env OMNIGLOT_DDP_LR\)/);
  t.regex(help, /env OMNIGLOT_DDP_DATA_DIR or OMNIGLOT_DIR/);
  t.regex(help, /command line > environment > --config JSON file > default/);
});

test('positionals are refused unless the command takes them; ranges and path kinds are checked where parsed', async (t) => {
  t.throws(() => parseOptions(TABLE, ['stray'], { env: {} }), { code: 'ERR_BAD_CONFIG', message: /unexpected argument 'stray'/ });
  t.deepEqual(parseOptions(TABLE, ['a.png', '--lr=1', 'b.png'], { env: {}, positionals: 'image.png...' }).positionals, ['a.png', 'b.png']);
  const checked = {
    momentum: { type: 'number', help: 'momentum', default: 0, min: 0, below: 1 },
    seed: { type: 'int', help: 'seed', default: 1, min: 0, max: 10 },
    out: { type: 'string', help: 'file', path: 'output-file' },
    dir: { type: 'string', help: 'folder', path: 'output-folder' },
  } as const satisfies OptionTable;
  const typed: number = parseOptions(checked, ['--momentum=0.5'], { env: {} }).values.momentum;
  t.is(typed, 0.5);
  t.throws(() => parseOptions(checked, ['--momentum=1'], { env: {} }), { message: /--momentum \(command line\): 1 must be below 1/ });
  t.throws(() => parseOptions(checked, [], { env: { OMNIGLOT_DDP_SEED: '11' } }), { message: /--seed \(environment OMNIGLOT_DDP_SEED\): 11 is above the maximum 10/ });
  await withConfig('{}', (file) => {
    t.throws(() => parseOptions(checked, ['--out', path.dirname(file)], { env: {} }), { message: /--out .* is a folder/ });
    t.throws(() => parseOptions(checked, ['--dir', path.join(file, 'under')], { env: {} }), { message: /--dir .* lies under .*run\.json, which is a file/ });
    t.is(parseOptions(checked, ['--out', path.join(path.dirname(file), 'w.bin'), '--dir', path.join(path.dirname(file), 'a', 'b')], { env: {} }).sources.out, 'flag');
  });
});
