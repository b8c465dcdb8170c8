import { DdpError } from '../../shared/common/errors.js';

/** Where `launch` runs: read from the scheduler's environment, or from OMNIGLOT_DDP_* variables anywhere else. */
export type ClusterKind = 'slurm' | 'kubernetes' | 'env';

/** The environment as the detectors read it (process.env, or a fixture in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** What this process is to do, decided from its environment. */
export type LaunchPlan =
  | {
    readonly cluster: ClusterKind;
    readonly role: 'coordinator';
    readonly port: number;
    /** Workers the run waits for before it starts; undefined: the --min-workers flag decides. */
    readonly workers?: number;
    /** True when workers connect from other hosts: bind every interface, and CURVE is needed. */
    readonly acrossHosts: boolean;
  }
  | {
    readonly cluster: ClusterKind;
    readonly role: 'worker';
    /** The coordinator's host name or address as workers reach it. */
    readonly coordinatorHost: string;
    readonly port: number;
    /** 1-based: names the worker's key file (worker-N.key) and the worker in logs. */
    readonly workerIndex: number;
    readonly workerName: string;
    readonly acrossHosts: boolean;
  };

export const DEFAULT_PORT = 5555;

/**
 * `host`, `host:port` or `tcp://host:port` (IPv6 in brackets). @throws DdpError ERR_BAD_CONFIG naming `source`.
 */
export function parseCoordinatorAddress(text: string, source: string): { readonly host: string; readonly port?: number } {
  const m = /^(?:tcp:\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new DdpError('ERR_BAD_CONFIG', `${source}: '${text.slice(0, 200)}' is not host, host:port or tcp://host:port`);
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new DdpError('ERR_BAD_CONFIG', `${source}: port ${port} is not in 1..65535`);
  return { host: m[1]!, ...(port !== undefined ? { port } : {}) };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

/** A whole number from the environment, or a clear error naming the variable. */
export function envInt(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new DdpError('ERR_BAD_CONFIG', `${name}='${raw.slice(0, 40)}' is not a whole number >= ${min}`);
  return n;
}
