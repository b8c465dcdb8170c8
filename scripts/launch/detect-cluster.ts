import { DdpError } from '../../shared/common/errors.js';
import { inKubernetes, kubernetesPlan } from './kubernetes-env.js';
import type { ClusterKind, Env, LaunchPlan } from './launch-plan.js';
import { plainPlan } from './plain-env.js';
import { inSlurm, slurmPlan } from './slurm-env.js';

export interface LaunchFlags {
  /** auto: Slurm when SLURM_PROCID is set, else Kubernetes when KUBERNETES_SERVICE_HOST is, else plain variables. */
  readonly cluster: 'auto' | ClusterKind;
  readonly role?: string | undefined;
  readonly coordinator?: string | undefined;
  readonly port?: number | undefined;
  readonly workerIndex?: number | undefined;
  readonly hostname: string;
  readonly pid: number;
}

export function detectCluster(choice: LaunchFlags['cluster'], env: Env): ClusterKind {
  if (choice !== 'auto') return choice;
  if (inSlurm(env)) return 'slurm';
  if (inKubernetes(env)) return 'kubernetes';
  return 'env';
}

/** This process's role from its environment and launch's flags. @throws DdpError ERR_BAD_CONFIG. */
export function planLaunch(flags: LaunchFlags, env: Env): LaunchPlan {
  const cluster = detectCluster(flags.cluster, env);
  switch (cluster) {
    case 'slurm': {
      // Under Slurm the task number decides; a --role that disagrees would start two coordinators or none.
      if (flags.role !== undefined) throw new DdpError('ERR_BAD_CONFIG', 'under Slurm the task number (SLURM_PROCID) decides the role: drop --role / OMNIGLOT_DDP_ROLE');
      return slurmPlan(env, flags.port);
    }
    case 'kubernetes':
      return kubernetesPlan(env, flags);
    case 'env':
      return plainPlan(flags);
  }
}
