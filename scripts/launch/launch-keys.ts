import { existsSync } from 'node:fs';
import path from 'node:path';
import { DdpError } from '../../shared/common/errors.js';
import type { LaunchPlan } from './launch-plan.js';

/**
 * CURVE flags for a role from a keys folder as `omniglot-ddp keys --out DIR --workers N` writes it (on a shared
 * folder under Slurm, a Secret mounted as files under Kubernetes): the coordinator takes coordinator.key and
 * allow-list.txt; worker N takes worker-N.key, or worker.key when all workers share one identity, and trusts
 * coordinator.pub. @throws DdpError ERR_BAD_CONFIG naming the file that is missing.
 */
export function keyFlags(plan: LaunchPlan, dir: string, exists: (file: string) => boolean = existsSync): Record<string, string> {
  const file = (name: string): string => path.join(dir, name);
  const need = (name: string, what: string): string => {
    if (!exists(file(name))) throw new DdpError('ERR_BAD_CONFIG', `--keys-dir: no ${file(name)} (${what}); make the folder with \`omniglot-ddp keys --out ${dir} --workers N\``);
    return file(name);
  };
  if (plan.role === 'coordinator') {
    return { 'curve-secret-key-file': need('coordinator.key', 'the coordinator\'s secret key'),
      ...(exists(file('coordinator.pub')) ? { 'curve-public-key-file': file('coordinator.pub') } : {}),
      'allow-list': need('allow-list.txt', 'the workers allowed to join') };
  }
  const own = `worker-${plan.workerIndex}`;
  const name = exists(file(`${own}.key`)) || !exists(file('worker.key')) ? own : 'worker';
  return { 'curve-secret-key-file': need(`${name}.key`, `worker ${plan.workerIndex}'s secret key, or worker.key shared by all`),
    ...(exists(file(`${name}.pub`)) ? { 'curve-public-key-file': file(`${name}.pub`) } : {}),
    'coordinator-key': need('coordinator.pub', 'the coordinator\'s public key') };
}
