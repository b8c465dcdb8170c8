import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OptionTable } from './options.js';
import { DdpError } from '../../shared/common/errors.js';
import { generateKeyPair, writeKeyPair } from '../../shared/security/curve-keys.js';
import { defineCommand } from './command.js';
import { COMMON_OPTIONS } from './option-tables.js';

const KEYS_OPTIONS = {
  out: { type: 'string', help: 'folder to write the keys into (created, mode 0700)', default: 'keys', path: 'output-folder' },
  workers: { type: 'int', help: 'worker key pairs to make: worker-1 ... worker-N', default: 1, min: 0 },
  'workers-only': { type: 'boolean', help: 'make only worker keys (their public keys are appended to allow-list.txt)', default: false },
  force: { type: 'boolean', help: 'overwrite key files that exist', default: false },
} as const satisfies OptionTable;

export const TABLE = { ...COMMON_OPTIONS, ...KEYS_OPTIONS };
const SUMMARY = 'Make CURVE key pairs (Z85): coordinator.key/.pub, worker-N.key/.pub (secrets mode 0600), and allow-list.txt.';

export const keysCommand = defineCommand({
  name: 'keys',
  summary: SUMMARY,
  options: TABLE,
  async run({ values }) {
    const { out, workers } = values;
    const names = [...(values['workers-only'] ? [] : ['coordinator']),
      ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`)];
    mkdirSync(out, { recursive: true, mode: 0o700 });
    const clash = names.flatMap((n) => [`${n}.key`, `${n}.pub`]).find((f) => existsSync(path.join(out, f)));
    if (clash && !values.force) {
      throw new DdpError('ERR_BAD_CONFIG', `${path.join(out, clash)} exists; pass --force to overwrite, or choose another --out`);
    }
    const allow: string[] = [];
    for (const name of names) {
      const pair = generateKeyPair();
      const { secretFile, publicFile } = writeKeyPair(path.join(out, name), pair, name);
      process.stdout.write(`${name}: ${publicFile} (public), ${secretFile} (secret, 0600)\n`);
      if (name !== 'coordinator') allow.push(`${pair.publicKey}  # ${name}`);
    }
    if (allow.length > 0) {
      const file = path.join(out, 'allow-list.txt');
      writeFileSync(file, `# Workers allowed to join: one Z85 public key per line; '#' starts a comment.\n${allow.join('\n')}\n`, { flag: values.force ? 'w' : 'a' });
      process.stdout.write(`allow-list: ${file}\n`);
    }
    return 0;
  },
});
