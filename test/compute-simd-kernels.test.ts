import { readFile } from 'node:fs/promises';
import test from 'ava';
import { assembleKernels, BINARY_MODULE_PATH, binaryModuleText, WAT_PATH } from '../shared/compute/wasm/simd/assemble.js';
import { KERNELS_WASM_BASE64 } from '../shared/compute/wasm/simd/kernels-binary.js';
import { initBackend } from '../shared/compute/backend.js';
import { simdKernelsUnavailable } from '../shared/compute/wasm/simd/simd-kernels.js';
import { silentLogger } from '../shared/common/logger.js';

test('the embedded SIMD binary is kernels.wat assembled (regenerate with assemble.js after editing the .wat)', async (t) => {
  const binary = await assembleKernels(await readFile(WAT_PATH, 'utf8'));
  t.true(WebAssembly.validate(Uint8Array.from(binary)));
  t.is(Buffer.from(binary).toString('base64'), KERNELS_WASM_BASE64);
  t.is(await readFile(BINARY_MODULE_PATH, 'utf8'), binaryModuleText(binary));
});

test('the SIMD kernels link to the wasm backend here (else every kernel silently takes its slower path)', async (t) => {
  const { tf } = await initBackend('wasm', silentLogger());
  t.is(simdKernelsUnavailable(tf.backend()), undefined);
});
