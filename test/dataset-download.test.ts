import test from 'ava';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { downloadOmniglotZip } from '../shared/dataset/download.js';
import { isDatasetError, loadOmniglot } from '../shared/dataset/omniglot.js';

// This file's process must not find the real data through the environment: it tests the paths taken without it.
delete process.env['OMNIGLOT_DIR'];
/** Port 1 on loopback: refused at once (fetch even blocks it as a bad port), and never the real internet. */
const UNREACHABLE = 'http://127.0.0.1:1/';

/** A loopback port that was free a moment ago, so the connection itself is refused. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'omniglot-download-'));
}

test('an unreachable source is ERR_DOWNLOAD naming the URL, and leaves nothing behind', async (t) => {
  const cacheDir = tempDir();
  const baseUrl = `http://127.0.0.1:${await closedPort()}/mirror/`;
  const error = await t.throwsAsync(downloadOmniglotZip('background', cacheDir, { baseUrl }));
  t.true(isDatasetError(error, 'ERR_DOWNLOAD'));
  t.true(error?.message.includes(`${baseUrl}images_background.zip`));
  t.regex(error?.message ?? '', /ECONNREFUSED/);
  t.deepEqual(readdirSync(cacheDir), []);
});

test('loadOmniglot with no folder and nothing cached downloads, and reports ERR_DOWNLOAD offline', async (t) => {
  const cacheDir = tempDir();
  const error = await t.throwsAsync(loadOmniglot({ cacheDir, downloadUrl: UNREACHABLE, alphabets: 1 }));
  t.true(isDatasetError(error, 'ERR_DOWNLOAD'));
  t.false(existsSync(path.join(cacheDir, 'images_background.zip')));
});

test('with download off and nothing cached it is ERR_DATASET_MISSING naming the cache path', async (t) => {
  const cacheDir = tempDir();
  const error = await t.throwsAsync(loadOmniglot({ cacheDir, download: false }));
  t.true(isDatasetError(error, 'ERR_DATASET_MISSING'));
  t.true(error?.message.includes(path.join(cacheDir, 'images_background.zip')));
});
