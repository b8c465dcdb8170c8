import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPair, writeKeyPair, type CurveKeyPair } from './curve-keys.js';

/** Keys made for one `train --curve` run: the coordinator's pair, an allow-list, and each local worker's flags. */
export interface EphemeralCurve {
  readonly server: CurveKeyPair & { readonly kind: 'curve'; readonly allowList: ReadonlySet<string> };
  /** Flags for local worker `i` (0-based): its secret key file and the coordinator's public key. */
  workerArgs(i: number): string[];
  /** Deletes the key folder. */
  cleanup(): void;
}

/** Fresh keys for a coordinator and `workers` local workers; the workers' secret keys go to a private temp folder. */
export function ephemeralCurve(workers: number): EphemeralCurve {
  const dir = mkdtempSync(path.join(tmpdir(), 'omniglot-ddp-keys-'));
  const coordinator = generateKeyPair();
  const files = Array.from({ length: workers }, (_, i) => {
    const pair = generateKeyPair();
    return { pair, ...writeKeyPair(path.join(dir, `worker-${i + 1}`), pair, `local worker ${i + 1}`) };
  });
  return {
    server: { kind: 'curve', ...coordinator, allowList: new Set(files.map((f) => f.pair.publicKey)) },
    workerArgs: (i) => [`--curve-secret-key-file=${files[i]!.secretFile}`, `--coordinator-key=${coordinator.publicKey}`],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
