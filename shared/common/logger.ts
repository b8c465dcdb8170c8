import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  /** Where lines go; stderr by default so that stdout stays free for progress and results. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

/** One root logger per process; components take `logger.child({ component })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['LOG_LEVEL'] ?? 'info';
  return pino({ level, name: options.name ?? 'omniglot-ddp' }, options.destination ?? pino.destination(2));
}

/** A logger that writes nothing, for tests that do not assert on log lines. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
