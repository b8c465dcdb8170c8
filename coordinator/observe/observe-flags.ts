import { DdpError } from '../../shared/common/errors.js';
import type { StepRange } from './trace-writer.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** What the dashboard server needs: where to listen and the token it asks for, if any. */
export interface DashboardConfig {
  readonly listen: ListenAddress;
  readonly token?: string;
}

export interface ObserveConfig {
  readonly dashboard?: DashboardConfig;
  readonly traceSteps?: StepRange;
  readonly tensorboard: boolean;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `[host:]port`, host an IPv4 address, a name or a bracketed IPv6 address. @throws DdpError ERR_BAD_CONFIG. */
export function parseListenAddress(text: string, flag = '--dashboard'): ListenAddress {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new DdpError('ERR_BAD_CONFIG', `${flag}: '${text}' is not [host:]port (e.g. 8265 or 127.0.0.1:8265)`);
  const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

/** `A:B`, global steps from A to B inclusive, 1 <= A <= B. @throws DdpError ERR_BAD_CONFIG. */
export function parseStepRange(text: string): StepRange {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (!match || from < 1 || to < from) throw new DdpError('ERR_BAD_CONFIG', `--trace-steps: '${text}' is not A:B with 1 <= A <= B (global steps, the first is 1)`);
  return { from, to };
}

/**
 * The dashboard's address and token. Like the coordinator's socket, a dashboard that other machines can reach
 * needs a credential: without --dashboard-token a non-loopback bind is refused.
 * @throws DdpError ERR_BAD_CONFIG for a bad address or an empty token, ERR_INSECURE_BIND for a non-loopback bind
 *   without a token.
 */
export function dashboardConfigFrom(address: string, token: unknown): DashboardConfig {
  const listen = parseListenAddress(address);
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) {
    throw new DdpError('ERR_BAD_CONFIG', '--dashboard-token: give at least 8 characters');
  }
  if (!isLoopbackHost(listen.host) && token === undefined) {
    throw new DdpError('ERR_INSECURE_BIND', `refusing to serve the dashboard on ${listen.host}:${listen.port} without --dashboard-token: anyone who reaches it could read the run`);
  }
  return { listen, ...(typeof token === 'string' ? { token } : {}) };
}

/** The views the flags ask for. @throws DdpError as dashboardConfigFrom and parseStepRange do. */
export function observeConfigFrom(values: Readonly<Record<string, unknown>>): ObserveConfig {
  const address = values['dashboard'];
  const trace = values['trace-steps'];
  return {
    ...(typeof address === 'string' && address !== '' ? { dashboard: dashboardConfigFrom(address, values['dashboard-token']) } : {}),
    ...(typeof trace === 'string' && trace !== '' ? { traceSteps: parseStepRange(trace) } : {}),
    tensorboard: values['tensorboard'] !== false,
  };
}
