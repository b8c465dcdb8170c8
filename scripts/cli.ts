#!/usr/bin/env node
import { DdpError } from '../shared/errors.js';
import type { Command } from './commands/command.js';
import { coordinatorCommand } from './commands/coordinator-command.js';
import { evaluateCommand } from './commands/evaluate-command.js';
import { keysCommand } from './commands/keys-command.js';
import { launchCommand } from './commands/launch-command.js';
import { predictCommand } from './commands/predict-command.js';
import { trainCommand } from './commands/train-command.js';
import { workerCommand } from './commands/worker-command.js';

const COMMANDS: readonly Command[] = [trainCommand, coordinatorCommand, workerCommand, launchCommand, evaluateCommand, predictCommand, keysCommand];

function usage(): string {
  const lines = ['Usage: omniglot-ddp <command> [flags]', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(12)} ${c.summary}`);
  lines.push('', 'Run `omniglot-ddp <command> --help` for its flags.');
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`omniglot-ddp: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return command.execute(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Expected failures (bad flags, missing dataset, refused bind) get one clear line and a non-zero exit.
  if (error instanceof DdpError) {
    process.stderr.write(`omniglot-ddp: ${error.message} [${error.code}]\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`omniglot-ddp: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
