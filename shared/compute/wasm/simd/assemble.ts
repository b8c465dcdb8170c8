/**
 * Assembles kernels.wat into the binary embedded in kernels-binary.ts, with wabt (a dev dependency). Run after
 * editing the .wat, from the repository root:
 *
 *   npm run build && node dist/shared/compute/wasm/simd/assemble.js
 *
 * The binary is committed (as base64 in a .ts file, so tsc carries it into dist/) and a test re-assembles the
 * source and compares, so the two cannot drift apart.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The .wat source and the generated module, in the source tree (this file runs from dist/). */
export const SOURCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../shared/compute/wasm/simd');
export const WAT_PATH = path.join(SOURCE_DIR, 'kernels.wat');
export const BINARY_MODULE_PATH = path.join(SOURCE_DIR, 'kernels-binary.ts');

/** The part of wabt's API used here. */
interface Wabt {
  parseWat(filename: string, text: string, features: { simd: boolean }): {
    validate(): void;
    toBinary(options: object): { buffer: Uint8Array };
    destroy(): void;
  };
}

// Imported by a name held in a variable, so that building the project never needs the dev-only wabt package.
const WABT_PACKAGE = 'wabt';

async function loadWabt(): Promise<Wabt> {
  const module = (await import(WABT_PACKAGE)) as { default: () => Promise<Wabt> };
  return module.default();
}

export async function assembleKernels(watText: string): Promise<Uint8Array> {
  const wabt = await loadWabt();
  const parsed = wabt.parseWat('kernels.wat', watText, { simd: true });
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

export function binaryModuleText(binary: Uint8Array): string {
  const base64 = Buffer.from(binary).toString('base64');
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    '// Generated from kernels.wat by assemble.ts: do not edit (edit the .wat, then regenerate).',
    'export const KERNELS_WASM_BASE64 =',
    ...lines.map((line, i) => `  '${line}'${i === lines.length - 1 ? ';' : ' +'}`),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const binary = await assembleKernels(await readFile(WAT_PATH, 'utf8'));
  await writeFile(BINARY_MODULE_PATH, binaryModuleText(binary));
  console.log(`wrote ${BINARY_MODULE_PATH} (${binary.length} bytes of wasm)`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
