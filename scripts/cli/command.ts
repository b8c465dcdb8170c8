import { formatHelp, parseOptions, type OptionTable, type ParsedOptions } from './options.js';
import { createLogger, type Logger } from '../../shared/common/logger.js';

/** What a command's `run` gets: its parsed, typed flags and the process's root logger at --log-level. */
export type CommandContext<T extends OptionTable> = ParsedOptions<T> & { readonly log: Logger };

export interface CommandDefinition<T extends OptionTable> {
  readonly name: string;
  readonly summary: string;
  /** Must include COMMON_OPTIONS (config, log-level, help). */
  readonly options: T;
  /** The positional arguments the command takes, as shown in its usage (e.g. 'image.png...'); none when absent. */
  readonly positionals?: string;
  /** Resolves with the process exit code. */
  run(context: CommandContext<T>): Promise<number>;
}

/** One subcommand of the CLI, as the dispatcher sees it. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  execute(argv: readonly string[]): Promise<number>;
}

/**
 * Gives every command the same front: flags parsed by one table (command line > environment > config file >
 * default), `--help` printed from that table, and one pino root logger.
 */
export function defineCommand<T extends OptionTable>(definition: CommandDefinition<T>): Command {
  return {
    name: definition.name,
    summary: definition.summary,
    async execute(argv) {
      if (argv.includes('--help')) {
        process.stdout.write(`${formatHelp(definition.name, definition.summary, definition.options, definition.positionals)}\n`);
        return 0;
      }
      const parsed = parseOptions(definition.options, argv, definition.positionals !== undefined ? { positionals: definition.positionals } : {});
      const level = parsed.values['log-level'];
      const log = createLogger({ level: typeof level === 'string' ? level : 'info' });
      return definition.run({ ...parsed, log });
    },
  };
}
