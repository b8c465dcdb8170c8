import type { OptionSource, OptionTable } from '../cli/options.js';
import { DdpError } from '../../shared/common/errors.js';
import type { LaunchPlan } from './launch-plan.js';

export interface RoleArgvInput {
  readonly plan: LaunchPlan;
  /** launch's parsed flags and where each came from. */
  readonly values: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly sources: Readonly<Record<string, OptionSource>>;
  /** The flags the role's command takes (coordinator or worker). */
  readonly target: OptionTable;
  /** CURVE key flags from --keys-dir (launch-keys.ts), if a folder was given. */
  readonly keys?: Readonly<Record<string, string>>;
  /** The checkpoint folder already holds a checkpoint: a rescheduled coordinator resumes from it. */
  readonly hasCheckpoint: boolean;
}

/** Given by the user (command line, environment or config file) rather than left to its default. */
const given = (source: OptionSource | undefined): boolean => source === 'flag' || source === 'env' || source === 'config';

/**
 * The command line of the role's own command: launch's flags that it takes (environment variables are read again
 * by that command; config-file values are passed on, since the file may hold launch-only keys), then what the plan
 * decides, unless the user gave that flag: bind or connect address, worker count, worker name, keys, --resume.
 * @throws DdpError ERR_BAD_CONFIG for a run across hosts without CURVE (keys) or --insecure.
 */
export function roleArgv(input: RoleArgvInput): string[] {
  const { plan, values, sources, target } = input;
  const curveGiven = given(sources['curve-secret-key-file']);
  if (plan.acrossHosts && !input.keys && !curveGiven && values['insecure'] !== true) {
    throw new DdpError('ERR_BAD_CONFIG', `the ${plan.cluster} run spans hosts, so CURVE is on by default: give --keys-dir (a folder from \`omniglot-ddp keys\` that every node can read) or, on a trusted network only, --insecure`);
  }
  const decided: Record<string, string | number | boolean> = plan.role === 'coordinator'
    ? { bind: `tcp://${plan.acrossHosts ? '0.0.0.0' : '127.0.0.1'}:${plan.port}`,
      ...(plan.workers !== undefined ? { 'min-workers': plan.workers } : {}),
      ...(input.hasCheckpoint ? { resume: true } : {}) }
    : { connect: `tcp://${plan.coordinatorHost}:${plan.port}`, name: plan.workerName };
  if (!curveGiven) Object.assign(decided, input.keys ?? {});
  const argv: string[] = [];
  for (const name of Object.keys(target)) {
    if (name === 'config' || name === 'help') continue;
    const value = values[name];
    if (value !== undefined && (sources[name] === 'flag' || sources[name] === 'config')) argv.push(flag(name, value));
    else if (name in decided && !given(sources[name])) argv.push(flag(name, decided[name]!));
  }
  return argv;
}

/** One flag as the command line takes it: booleans bare or negated (they take no value), others as --name=value. */
function flag(name: string, value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? `--${name}` : `--no-${name}`;
  return `--${name}=${String(value)}`;
}
