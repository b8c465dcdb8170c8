#!/usr/bin/env node
import { DdpError } from '../shared/common/errors.js';
import type { Command } from './cli/command.js';
import { coordinatorCommand } from './cli/coordinator-command.js';
import { dashboardCommand } from './cli/dashboard-command.js';
import { evaluateCommand } from './cli/evaluate-command.js';
import { keysCommand } from './cli/keys-command.js';
import { launchCommand } from './cli/launch-command.js';
import { predictCommand } from './cli/predict-command.js';
import { trainCommand } from './cli/train-command.js';
import { workerCommand } from './cli/worker-command.js';

const COMMANDS: readonly Command[] = [trainCommand, coordinatorCommand, workerCommand, launchCommand, evaluateCommand, predictCommand, keysCommand, dashboardCommand];

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

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Expected failures (bad flags, missing dataset, refused bind) get one clear line and a non-zero exit.
  if (error instanceof DdpError) {
    process.stderr.write(`omniglot-ddp: ${error.message} [${error.code}]\n`);
    process.exitCode = 2;
  } else if (isSystemError(error)) {
    // A file that could not be written late in a run (full disk, a folder removed): one line, not a stack.
    process.stderr.write(`omniglot-ddp: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`omniglot-ddp: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
