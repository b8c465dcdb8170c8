// Generates the static protobuf code and its TypeScript declarations from proto/ddp.proto, so the .proto stays
// the only source of the wire format. Output goes to proto/generated/ (ignored by git) and dist/proto/generated/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const outDir = join(root, 'proto', 'generated');
mkdirSync(outDir, { recursive: true });
const js = join(outDir, 'ddp.js');
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-delimited',
  '--no-beautify', '-o', js, join(root, 'proto', 'ddp.proto')], { stdio: 'inherit' });
execFileSync(bin('pbts'), ['-o', join(outDir, 'ddp.d.ts'), js], { stdio: 'inherit' });
// The descriptor as JSON, for the bounded wire walker (shared/protocol/wire-scan.ts) to read field kinds from.
const json = join(outDir, 'ddp.json');
execFileSync(bin('pbjs'), ['-t', 'json', '-o', json, join(root, 'proto', 'ddp.proto')], { stdio: 'inherit' });
const distDir = join(root, 'dist', 'proto', 'generated');
mkdirSync(distDir, { recursive: true });
copyFileSync(js, join(distDir, 'ddp.js'));
copyFileSync(json, join(distDir, 'ddp.json'));
