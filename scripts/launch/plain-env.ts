import { DdpError } from '../../shared/common/errors.js';
import { DEFAULT_PORT, isLoopbackHost, parseCoordinatorAddress, type LaunchPlan } from './launch-plan.js';

/**
 * The role anywhere else, from flags or their variables: OMNIGLOT_DDP_ROLE (coordinator or worker) and
 * OMNIGLOT_DDP_COORDINATOR (the coordinator's host[:port], default 127.0.0.1). A coordinator given a non-loopback
 * address binds every interface and needs CURVE, as do workers connecting to one.
 * @throws DdpError ERR_BAD_CONFIG without a role.
 */
export function plainPlan(flags: { readonly role?: string | undefined; readonly coordinator?: string | undefined; readonly port?: number | undefined;
  readonly workerIndex?: number | undefined; readonly hostname: string; readonly pid: number }): LaunchPlan {
  if (flags.role === undefined) {
    throw new DdpError('ERR_BAD_CONFIG', 'no cluster found (no Slurm or Kubernetes variables): give --role / OMNIGLOT_DDP_ROLE (coordinator or worker)');
  }
  const address = parseCoordinatorAddress(flags.coordinator ?? '127.0.0.1', '--coordinator (OMNIGLOT_DDP_COORDINATOR)');
  const port = flags.port ?? address.port ?? DEFAULT_PORT;
  const acrossHosts = !isLoopbackHost(address.host);
  if (flags.role === 'coordinator') return { cluster: 'env', role: 'coordinator', port, acrossHosts };
  const workerIndex = flags.workerIndex ?? 1;
  return { cluster: 'env', role: 'worker', coordinatorHost: address.host, port, workerIndex,
    workerName: `worker-${workerIndex}@${flags.hostname}:${flags.pid}`, acrossHosts };
}
