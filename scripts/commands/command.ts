import type { Logger } from '../../shared/logging/logger.js';

/** One subcommand of the CLI: its flags are parsed inside `run`, which returns the exit code. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  run(argv: readonly string[], log: (level: string) => Logger): Promise<number>;
}
