import { DdpError } from '../../shared/common/errors.js';
import { DEFAULT_PORT, envInt, parseCoordinatorAddress, type Env, type LaunchPlan } from './launch-plan.js';

/** True inside a Kubernetes pod: the kubelet sets the API server's address in every container. */
export function inKubernetes(env: Env): boolean {
  return env['KUBERNETES_SERVICE_HOST'] !== undefined;
}

/**
 * The role of a pod: the coordinator's Job says OMNIGLOT_DDP_ROLE=coordinator; a pod of the indexed worker Job is
 * worker JOB_COMPLETION_INDEX + 1 and reaches the coordinator by the headless Service's DNS name (--coordinator).
 * Pods are on different nodes, so the coordinator binds every interface and CURVE is expected.
 * @throws DdpError ERR_BAD_CONFIG when the role cannot be told or a worker has no coordinator address.
 */
export function kubernetesPlan(env: Env, flags: { readonly role?: string | undefined; readonly coordinator?: string | undefined; readonly port?: number | undefined }): LaunchPlan {
  const index = envInt(env, 'JOB_COMPLETION_INDEX', 0);
  const role = flags.role ?? (index !== undefined ? 'worker' : undefined);
  if (role === undefined) {
    throw new DdpError('ERR_BAD_CONFIG', 'Kubernetes: no JOB_COMPLETION_INDEX (not an indexed Job) and no --role / OMNIGLOT_DDP_ROLE: set OMNIGLOT_DDP_ROLE=coordinator in the coordinator\'s Job');
  }
  const address = flags.coordinator === undefined ? undefined : parseCoordinatorAddress(flags.coordinator, '--coordinator (OMNIGLOT_DDP_COORDINATOR)');
  const port = flags.port ?? address?.port ?? DEFAULT_PORT;
  if (role === 'coordinator') return { cluster: 'kubernetes', role: 'coordinator', port, acrossHosts: true };
  if (!address) {
    throw new DdpError('ERR_BAD_CONFIG', 'Kubernetes: a worker needs --coordinator / OMNIGLOT_DDP_COORDINATOR, the coordinator\'s headless Service DNS name');
  }
  const workerIndex = (index ?? 0) + 1;
  return { cluster: 'kubernetes', role: 'worker', coordinatorHost: address.host, port, workerIndex,
    workerName: `k8s-worker-${workerIndex}@${env['HOSTNAME'] ?? 'pod'}`, acrossHosts: true };
}
