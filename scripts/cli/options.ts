import { readFileSync } from 'node:fs';
import { DdpError } from '../../shared/common/errors.js';

/**
 * Every command-line option, in one table: its type, default, environment variable and help. Values come from, in
 * order of precedence: the command line, then the environment (OMNIGLOT_DDP_<NAME>, plus OMNIGLOT_DIR for
 * --data-dir), then a JSON config file (--config, keys as the long flag names), then the default.
 */
export type OptionType = 'string' | 'int' | 'number' | 'boolean';

export interface OptionDef {
  readonly type: OptionType;
  readonly help: string;
  readonly default?: string | number | boolean;
  /** Extra environment variable read besides OMNIGLOT_DDP_<NAME>. */
  readonly env?: string;
  readonly min?: number;
  readonly choices?: readonly string[];
}

export type OptionTable = Readonly<Record<string, OptionDef>>;
export type OptionValue = string | number | boolean | undefined;

export interface ParsedOptions<T extends OptionTable> {
  readonly values: { readonly [K in keyof T]: OptionValue };
  /** Where each value came from, for `--print-config` and the run folder. */
  readonly sources: { readonly [K in keyof T]: 'flag' | 'env' | 'config' | 'default' | 'unset' };
  readonly positionals: readonly string[];
}

export function envName(option: string): string {
  return `OMNIGLOT_DDP_${option.replace(/-/g, '_').toUpperCase()}`;
}

function convert(name: string, def: OptionDef, raw: unknown, where: string): OptionValue {
  const fail = (why: string): never => {
    throw new DdpError('ERR_BAD_CONFIG', `--${name} (${where}): ${why}`);
  };
  let value: OptionValue;
  switch (def.type) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') fail(`expected a string, got ${JSON.stringify(raw)}`);
      value = String(raw);
      if (def.choices && !def.choices.includes(value)) fail(`'${value}' is not one of ${def.choices.join(', ')}`);
      return value;
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === '') return true;
      if (raw === 'false' || raw === '0') return false;
      return fail(`expected true or false, got ${JSON.stringify(raw)}`);
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) fail(`'${String(raw)}' is not a number`);
      if (def.type === 'int' && !Number.isInteger(n)) fail(`'${String(raw)}' is not a whole number`);
      if (def.min !== undefined && n < def.min) fail(`${n} is below the minimum ${def.min}`);
      return n;
    }
  }
}

/**
 * Parses argv against a table. `--flag value`, `--flag=value`, and bare `--flag` for booleans (`--no-flag` for
 * false).
 * @throws DdpError ERR_BAD_CONFIG naming the flag, for unknown flags, bad values, or an unreadable config file.
 */
export function parseOptions<T extends OptionTable>(table: T, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ParsedOptions<T> {
  const fromFlags = new Map<string, unknown>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let raw: unknown = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (raw === undefined && name.startsWith('no-') && table[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      raw = false;
    }
    const def = table[name];
    if (!def) {
      const known = Object.keys(table).map((k) => `--${k}`).join(' ');
      throw new DdpError('ERR_BAD_CONFIG', `unknown flag --${name}; this command takes: ${known}`);
    }
    if (raw === undefined) {
      if (def.type === 'boolean') raw = true;
      else {
        const next = argv[i + 1];
        if (next === undefined) throw new DdpError('ERR_BAD_CONFIG', `--${name} needs a value`);
        raw = next;
        i += 1;
      }
    }
    fromFlags.set(name, raw);
  }
  const configPath = fromFlags.get('config') ?? env[envName('config')];
  const fromConfig = typeof configPath === 'string' && configPath !== '' ? readConfigFile(configPath, table) : new Map<string, unknown>();
  const values: Record<string, OptionValue> = {};
  const sources: Record<string, 'flag' | 'env' | 'config' | 'default' | 'unset'> = {};
  for (const [name, def] of Object.entries(table)) {
    const envValue = env[envName(name)] ?? (def.env ? env[def.env] : undefined);
    if (fromFlags.has(name)) {
      values[name] = convert(name, def, fromFlags.get(name), 'command line');
      sources[name] = 'flag';
    } else if (envValue !== undefined) {
      values[name] = convert(name, def, envValue, `environment ${env[envName(name)] !== undefined ? envName(name) : def.env}`);
      sources[name] = 'env';
    } else if (fromConfig.has(name)) {
      values[name] = convert(name, def, fromConfig.get(name), `config file ${String(configPath)}`);
      sources[name] = 'config';
    } else if (def.default !== undefined) {
      values[name] = def.default;
      sources[name] = 'default';
    } else {
      values[name] = undefined;
      sources[name] = 'unset';
    }
  }
  return { values: values as ParsedOptions<T>['values'], sources: sources as ParsedOptions<T>['sources'], positionals };
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

/** The help text of a command: usage line, then each flag with its default and environment variable. */
export function formatHelp(command: string, summary: string, table: OptionTable): string {
  const lines = [`Usage: omniglot-ddp ${command} [flags]`, '', summary, '', 'Flags:'];
  for (const [name, def] of Object.entries(table)) {
    const flag = def.type === 'boolean' ? `--${name}` : `--${name} <${def.choices ? def.choices.join('|') : def.type}>`;
    const extras = [def.default !== undefined ? `default ${String(def.default)}` : undefined,
      `env ${envName(name)}${def.env ? ` or ${def.env}` : ''}`].filter(Boolean).join('; ');
    lines.push(`  ${flag.padEnd(44)} ${def.help} (${extras})`);
  }
  lines.push('', 'Precedence: command line > environment > --config JSON file > default.');
  return lines.join('\n');
}
