/**
 * Reads every entry of an Omniglot zip with the project's ZipReader, with fflate (unzipSync) and with yauzl, each in
 * a fresh child process, and prints wall time and peak RSS; then flips one byte inside an entry's compressed data
 * and tells which readers notice. The figures behind keeping our own reader (README, "Own parts").
 *
 * Usage: node dist/scripts/bench/zip-read.js [zip] [--modules DIR] [--runs N]
 *   zip      default $OMNIGLOT_DIR/images_background.zip (or ../shared/omniglot)
 *   DIR      a folder whose node_modules holds fflate and yauzl (they are not project dependencies):
 *            mkdir /tmp/zipbench && cd /tmp/zipbench && npm init -y && npm install --no-save fflate@0.8.3 yauzl@3.4.0
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZipReader } from '../../shared/dataset/zip-reader.js';

const READERS = ['ours', 'fflate', 'yauzl'] as const;
type ReaderName = (typeof READERS)[number];

interface Outcome {
  readonly entries: number;
  readonly bytes: number;
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly error?: string;
}

/** The few calls of fflate and yauzl used here, typed locally since they are not project dependencies. */
interface Fflate { unzipSync(data: Uint8Array): Record<string, Uint8Array> }
interface YauzlEntry { readonly fileName: string }
interface YauzlZip {
  readEntry(): void;
  openReadStream(entry: YauzlEntry, cb: (err: Error | null, stream: NodeJS.ReadableStream) => void): void;
  on(event: 'entry', cb: (entry: YauzlEntry) => void): void;
  on(event: 'end', cb: () => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
}
interface Yauzl { open(file: string, options: { lazyEntries: boolean }, cb: (err: Error | null, zip: YauzlZip) => void): void }

const self = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(self), '../../..');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

async function readAll(reader: ReaderName, file: string, modules: string): Promise<{ entries: number; bytes: number }> {
  const load = <T>(name: string): T => createRequire(path.join(modules, 'noop.js'))(name) as T;
  switch (reader) {
    case 'ours': {
      const zip = await ZipReader.open(file);
      let bytes = 0;
      let entries = 0;
      for (const e of zip.entries) if (!e.isDirectory) { bytes += zip.read(e).length; entries++; }
      return { entries, bytes };
    }
    case 'fflate': {
      const files = load<Fflate>('fflate').unzipSync(readFileSync(file));
      const contents = Object.entries(files).filter(([name]) => !name.endsWith('/'));
      return { entries: contents.length, bytes: contents.reduce((n, [, b]) => n + b.length, 0) };
    }
    case 'yauzl': {
      const yauzl = load<Yauzl>('yauzl');
      return new Promise((resolve, reject) => {
        yauzl.open(file, { lazyEntries: true }, (err, zip) => {
          if (err) return reject(err);
          let bytes = 0;
          let entries = 0;
          zip.on('error', reject);
          zip.on('end', () => resolve({ entries, bytes }));
          zip.on('entry', (entry) => {
            if (entry.fileName.endsWith('/')) return zip.readEntry();
            zip.openReadStream(entry, (e, stream) => {
              if (e) return reject(e);
              stream.on('data', (chunk: Buffer) => { bytes += chunk.length; });
              stream.on('error', reject);
              stream.on('end', () => { entries++; zip.readEntry(); });
            });
          });
          zip.readEntry();
        });
      });
    }
  }
}

/** Child mode: one reader, one file, one JSON line out. */
async function child(reader: ReaderName, file: string, modules: string): Promise<void> {
  const started = performance.now();
  let result: Outcome;
  try {
    const { entries, bytes } = await readAll(reader, file, modules);
    result = { entries, bytes, ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  } catch (error) {
    result = { entries: 0, bytes: 0, ms: performance.now() - started, maxRssMiB: process.resourceUsage().maxRSS / 1024,
      error: error instanceof Error ? error.message : String(error) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function run(reader: ReaderName | 'baseline', file: string, modules: string): Outcome {
  if (reader === 'baseline') {
    const out = execFileSync(process.execPath, ['-e', 'console.log(process.resourceUsage().maxRSS / 1024)'], { encoding: 'utf8' });
    return { entries: 0, bytes: 0, ms: 0, maxRssMiB: Number(out) };
  }
  const out = execFileSync(process.execPath, [self, file, '--child', reader, '--modules', modules], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Outcome;
}

/** A copy of `file` with one byte flipped in the middle of the compressed data of its 100th file entry. */
async function damagedCopy(file: string, folder: string): Promise<{ file: string; entry: string }> {
  const bytes = readFileSync(file);
  const zip = ZipReader.fromBuffer(file, bytes);
  const entry = zip.entries.filter((e) => !e.isDirectory && e.method === 8)[100];
  if (entry === undefined) throw new Error(`${file}: too few deflated entries`);
  const at = entry.localHeaderOffset;
  const dataStart = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
  const flip = dataStart + Math.floor(entry.compressedSize / 2);
  bytes[flip] = (bytes[flip] ?? 0) ^ 0x10;
  const out = path.join(folder, 'damaged.zip');
  writeFileSync(out, bytes);
  return { file: out, entry: entry.name };
}

async function main(): Promise<void> {
  const dataDir = process.env['OMNIGLOT_DIR'] ?? path.resolve(repoRoot, '../shared/omniglot');
  const positional = process.argv[2] !== undefined && !process.argv[2].startsWith('--') ? process.argv[2] : undefined;
  const file = positional ?? path.join(dataDir, 'images_background.zip');
  const modules = path.resolve(option('--modules') ?? repoRoot);
  const childReader = option('--child');
  if (childReader !== undefined) return child(childReader as ReaderName, file, modules);

  const runs = Number(option('--runs') ?? 3);
  console.log(`zip ${file} (${(readFileSync(file).length / 2 ** 20).toFixed(1)} MiB), ${runs} runs each, node ${process.version}`);
  console.log(`baseline node process: peak RSS ${run('baseline', file, modules).maxRssMiB.toFixed(0)} MiB`);
  for (const reader of READERS) {
    const results = Array.from({ length: runs }, () => run(reader, file, modules));
    const failed = results.find((r) => r.error !== undefined);
    if (failed) {
      console.log(`${reader.padEnd(7)} failed: ${failed.error}`);
      continue;
    }
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const r0 = results[0]!;
    console.log(`${reader.padEnd(7)} ${r0.entries} entries, ${(r0.bytes / 2 ** 20).toFixed(1)} MiB out: median ${ms[Math.floor(runs / 2)]!.toFixed(0)} ms ` +
      `(min ${ms[0]!.toFixed(0)}), peak RSS ${Math.max(...results.map((r) => r.maxRssMiB)).toFixed(0)} MiB`);
  }
  const folder = mkdtempSync(path.join(os.tmpdir(), 'zip-bench-'));
  try {
    const damaged = await damagedCopy(file, folder);
    console.log(`one byte flipped inside ${damaged.entry}:`);
    for (const reader of READERS) {
      const r = run(reader, damaged.file, modules);
      console.log(`${reader.padEnd(7)} ${r.error === undefined ? `NOT noticed (read ${r.entries} entries without error)` : `noticed: ${r.error.slice(0, 140)}`}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

await main();
