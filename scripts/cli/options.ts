import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DdpError } from '../../shared/common/errors.js';
import { pathProblem, type PathKind } from './path-check.js';

/**
 * Every command-line option, in one table: its type, validation, default, environment variable and help. Values come
 * from, in order of precedence: the command line, then the environment (OMNIGLOT_DDP_<NAME>, plus OMNIGLOT_DIR for
 * --data-dir), then a JSON config file (--config, keys as the long flag names), then the default. node's
 * util.parseArgs splits the command line; this file adds the other sources, the types and the checks.
 */
interface OptionBase {
  readonly help: string;
  /** Extra environment variable read besides OMNIGLOT_DDP_<NAME>. */
  readonly env?: string;
}
export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly default?: string;
  readonly choices?: readonly string[];
  /** A path, checked for its kind when parsed (see path-check.ts). */
  readonly path?: PathKind;
}
export interface NumberOption extends OptionBase {
  readonly type: 'int' | 'number';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
  /** Exclusive upper bound, for ranges like momentum's [0, 1). */
  readonly below?: number;
}
export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}
export type OptionDef = StringOption | NumberOption | BooleanOption;
export type OptionType = OptionDef['type'];
export type OptionTable = Readonly<Record<string, OptionDef>>;

type BaseValue<D> = D extends { readonly type: 'boolean' } ? boolean
  : D extends { readonly type: 'int' | 'number' } ? number
    : D extends { readonly choices: readonly (infer C)[] } ? C : string;
/** The type a flag's value has after parsing: undefined only where the flag has no default. */
export type OptionValue<D> = D extends { readonly default: unknown } ? BaseValue<D> : BaseValue<D> | undefined;
export type OptionSource = 'flag' | 'env' | 'config' | 'default' | 'unset';

export interface ParsedOptions<T extends OptionTable> {
  readonly values: { readonly [K in keyof T]: OptionValue<T[K]> };
  /** Where each value came from, for `--print-config` and the run folder. */
  readonly sources: { readonly [K in keyof T]: OptionSource };
  readonly positionals: readonly string[];
}

export function envName(option: string): string {
  return `OMNIGLOT_DDP_${option.replace(/-/g, '_').toUpperCase()}`;
}

type Scalar = string | number | boolean;

/** One raw value (a command-line or environment string, or a config file's JSON value) as the flag's type, checked. */
function convert(name: string, def: OptionDef, raw: unknown, where: string, checkPaths: boolean): Scalar {
  const fail = (why: string): never => {
    throw new DdpError('ERR_BAD_CONFIG', `--${name} (${where}): ${why}`);
  };
  switch (def.type) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail(`expected a string, got ${JSON.stringify(raw)}`);
      const value = String(raw);
      if (def.choices && !def.choices.includes(value)) fail(`'${value}' is not one of ${def.choices.join(', ')}`);
      const problem = checkPaths && def.path && value !== '' ? pathProblem(value, def.path) : undefined;
      if (problem) fail(problem);
      return value;
    }
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail(`expected true or false, got ${JSON.stringify(raw)}`);
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) fail(`'${String(raw)}' is not a number`);
      if (def.type === 'int' && !Number.isSafeInteger(n)) fail(`'${String(raw)}' is not a whole number${Number.isInteger(n) ? ' that fits' : ''}`);
      if (def.min !== undefined && n < def.min) fail(`${n} is below the minimum ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`${n} is above the maximum ${def.max}`);
      if (def.below !== undefined && n >= def.below) fail(`${n} must be below ${def.below}`);
      return n;
    }
  }
}

/** The quoted flag in a parseArgs error message ("Unknown option '--lrr'"), without its `<value>` tail. */
function flagIn(message: string): string {
  return /'(-[^' ]*)/.exec(message)?.[1] ?? '?';
}

/** parseArgs' errors as ERR_BAD_CONFIG lines naming the flag. */
function commandLineError(error: unknown, table: OptionTable): DdpError {
  const e = error as { code?: string; message: string };
  const flag = flagIn(e.message);
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new DdpError('ERR_BAD_CONFIG', `unknown flag ${flag}; this command takes: ${Object.keys(table).map((k) => `--${k}`).join(' ')}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message)) return new DdpError('ERR_BAD_CONFIG', `${flag} takes no value: give ${flag} or --no-${flag.slice(2)}`);
      if (/ambiguous/.test(e.message)) return new DdpError('ERR_BAD_CONFIG', `${flag} needs a value (one starting with '-' is given as ${flag}=-...)`);
      return new DdpError('ERR_BAD_CONFIG', `${flag} needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new DdpError('ERR_BAD_CONFIG', `unexpected argument '${/'([^']*)'/.exec(e.message)?.[1] ?? ''}': this command takes only flags`);
    default:
      return new DdpError('ERR_BAD_CONFIG', e.message.split('\n')[0] ?? 'bad command line');
  }
}

export interface ParseSettings {
  readonly env?: NodeJS.ProcessEnv;
  /** Positional arguments taken (e.g. 'image.png...'); without it, any is refused. */
  readonly positionals?: string;
  /**
   * Whether path flags are checked against this machine's files (default true). Off only to validate a command line
   * meant for another machine, e.g. the deployment manifests' arguments.
   */
  readonly checkPaths?: boolean;
}

/**
 * Parses argv against a table: `--flag value`, `--flag=value`, bare `--flag` for booleans and `--no-flag` for false.
 * @throws DdpError ERR_BAD_CONFIG naming the flag, for unknown flags, bad values, a stray positional argument, or an
 *   unreadable config file.
 */
export function parseOptions<T extends OptionTable>(table: T, argv: readonly string[], settings: ParseSettings = {}): ParsedOptions<T> {
  const { env = process.env, positionals: takes, checkPaths = true } = settings;
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: takes !== undefined, allowNegative: true,
      options: Object.fromEntries(Object.entries(table).map(([name, def]) => [name, { type: def.type === 'boolean' ? 'boolean' : 'string' }])) });
  } catch (error) {
    throw commandLineError(error, table);
  }
  const fromFlags = new Map(Object.entries(parsed.values).filter(([, v]) => v !== undefined));
  const configPath = fromFlags.get('config') ?? env[envName('config')];
  const fromConfig = typeof configPath === 'string' && configPath !== '' ? readConfigFile(configPath, table) : new Map<string, unknown>();
  const values: Record<string, Scalar | undefined> = {};
  const sources: Record<string, OptionSource> = {};
  for (const [name, def] of Object.entries(table)) {
    const envKey = env[envName(name)] !== undefined ? envName(name) : def.env !== undefined && env[def.env] !== undefined ? def.env : undefined;
    if (fromFlags.has(name)) {
      values[name] = convert(name, def, fromFlags.get(name), 'command line', checkPaths);
      sources[name] = 'flag';
    } else if (envKey !== undefined) {
      values[name] = convert(name, def, env[envKey], `environment ${envKey}`, checkPaths);
      sources[name] = 'env';
    } else if (fromConfig.has(name)) {
      values[name] = convert(name, def, fromConfig.get(name), `config file ${String(configPath)}`, checkPaths);
      sources[name] = 'config';
    } else if (def.default !== undefined) {
      values[name] = convert(name, def, def.default, 'default', checkPaths);
      sources[name] = 'default';
    } else {
      values[name] = undefined;
      sources[name] = 'unset';
    }
  }
  return { values: values as ParsedOptions<T>['values'], sources: sources as ParsedOptions<T>['sources'], positionals: parsed.positionals };
}

function readConfigFile(path: string, table: OptionTable): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DdpError('ERR_BAD_CONFIG', `config file ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DdpError('ERR_BAD_CONFIG', `config file ${path}: expected a JSON object of flag names to values`);
  }
  const entries = Object.entries(parsed);
  for (const [key] of entries) {
    if (!table[key]) throw new DdpError('ERR_BAD_CONFIG', `config file ${path}: unknown key '${key}'`);
  }
  return new Map(entries);
}

function valueHint(def: OptionDef): string {
  if (def.type === 'string') return def.choices ? def.choices.join('|') : def.path ?? 'string';
  return def.type;
}

function rangeHint(def: OptionDef): string {
  if (def.type !== 'int' && def.type !== 'number') return '';
  const range = [def.min !== undefined ? `>= ${def.min}` : '', def.max !== undefined ? `<= ${def.max}` : '',
    def.below !== undefined ? `< ${def.below}` : ''].filter(Boolean).join(', ');
  return range ? ` [${range}]` : '';
}

/** The help text of a command: usage line, then each flag with its type, range, default and environment variable. */
export function formatHelp(command: string, summary: string, table: OptionTable, positionals?: string): string {
  const lines = [`Usage: omniglot-ddp ${command} [flags]${positionals ? ` [${positionals}]` : ''}`, '', summary, '', 'Flags:'];
  for (const [name, def] of Object.entries(table)) {
    const flag = def.type === 'boolean' ? `--${name}` : `--${name} <${valueHint(def)}>`;
    const extras = [def.default !== undefined ? `default ${String(def.default)}` : undefined,
      `env ${envName(name)}${def.env ? ` or ${def.env}` : ''}`].filter(Boolean).join('; ');
    lines.push(`  ${flag.padEnd(44)} ${def.help} (${extras})${rangeHint(def)}`);
  }
  lines.push('', 'Precedence: command line > environment > --config JSON file > default.');
  return lines.join('\n');
}
