import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { curveKeyPair } from 'zeromq';
import { DdpError } from '../common/errors.js';
import { z85Decode, z85Encode } from './z85.js';

/** A CURVE key pair as Z85 text (40 characters each), the form zeromq's socket options take. */
export interface CurveKeyPair {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** True for the Z85 text of a 32-byte key. */
export function isZ85Key(text: string): boolean {
  return text.length === 40 && z85Decode(text) !== undefined;
}

/** A fresh key pair from libsodium (through zeromq). */
export function generateKeyPair(): CurveKeyPair {
  return curveKeyPair();
}

// PKCS#8 DER prefix of a raw X25519 private key: lets node:crypto derive the public key CURVE would use.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key of a Z85 secret key (CURVE keys are X25519 keys). @throws DdpError ERR_BAD_CONFIG. */
export function publicKeyOf(secretKey: string, where: string): string {
  const raw = z85Decode(secretKey);
  if (!raw || raw.length !== 32) throw new DdpError('ERR_BAD_CONFIG', `${where}: not a Z85 CURVE secret key`);
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new DdpError('ERR_BAD_CONFIG', `${where}: could not derive the public key`);
  return z85Encode(Buffer.from(x, 'base64url'));
}

/**
 * The meaningful lines of a key or allow-list file: the first word of each line, where a line whose first word is
 * not a key and starts with `#` is a comment, and so is anything after a key. Z85 itself uses `#`, so a comment
 * cannot simply start at the first `#`.
 */
function keyLines(text: string): { line: number; key: string }[] {
  return text.split(/\r?\n/).map((raw, i) => ({ line: i + 1, key: raw.trim().split(/\s+/)[0] ?? '' }))
    .filter((l) => l.key !== '' && (isZ85Key(l.key) || !l.key.startsWith('#')));
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DdpError('ERR_BAD_CONFIG', `${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The single Z85 key a file holds (comments allowed). @throws DdpError ERR_BAD_CONFIG naming the file. */
export function readKeyFile(path: string, what: string): string {
  const lines = keyLines(readText(path, what));
  if (lines.length !== 1) throw new DdpError('ERR_BAD_CONFIG', `${what} ${path}: expected one Z85 key, found ${lines.length} lines`);
  const { key, line } = lines[0]!;
  if (!isZ85Key(key)) throw new DdpError('ERR_BAD_CONFIG', `${what} ${path}:${line}: not a 40-character Z85 CURVE key`);
  return key;
}

/**
 * A key pair from a secret-key file, and optionally its public-key file, which must match the secret.
 * @throws DdpError ERR_BAD_CONFIG for a missing, malformed or mismatched file.
 */
export function readKeyPair(secretFile: string, publicFile?: string): CurveKeyPair {
  const secretKey = readKeyFile(secretFile, '--curve-secret-key-file');
  const publicKey = publicKeyOf(secretKey, `--curve-secret-key-file ${secretFile}`);
  if (publicFile !== undefined) {
    const given = readKeyFile(publicFile, '--curve-public-key-file');
    if (given !== publicKey) {
      throw new DdpError('ERR_BAD_CONFIG', `--curve-public-key-file ${publicFile} is not the public key of ${secretFile}`);
    }
  }
  return { publicKey, secretKey };
}

/** Parses an allow-list: one Z85 public key per line, `#` comments. @throws DdpError ERR_BAD_CONFIG at file:line. */
export function parseAllowList(text: string, where: string): ReadonlySet<string> {
  const keys = new Set<string>();
  for (const { line, key } of keyLines(text)) {
    if (!isZ85Key(key)) throw new DdpError('ERR_BAD_CONFIG', `${where}:${line}: '${key.slice(0, 50)}' is not a 40-character Z85 public key`);
    keys.add(key);
  }
  return keys;
}

export function readAllowList(path: string): ReadonlySet<string> {
  const keys = parseAllowList(readText(path, '--allow-list'), `--allow-list ${path}`);
  if (keys.size === 0) throw new DdpError('ERR_BAD_CONFIG', `--allow-list ${path}: no keys, so no worker could join`);
  return keys;
}

/** A Z85 public key given inline, or the path of a file holding one. @throws DdpError ERR_BAD_CONFIG. */
export function resolvePublicKey(value: string, flag: string): string {
  if (isZ85Key(value)) return value;
  if (!existsSync(value)) throw new DdpError('ERR_BAD_CONFIG', `${flag}: '${value.slice(0, 60)}' is neither a 40-character Z85 key nor a file`);
  return readKeyFile(value, flag);
}

/** Writes a key pair as `<base>.key` (secret, mode 0600) and `<base>.pub`. Returns the two paths. */
export function writeKeyPair(base: string, pair: CurveKeyPair, label: string): { secretFile: string; publicFile: string } {
  const secretFile = `${base}.key`;
  const publicFile = `${base}.pub`;
  writeFileSync(secretFile, `# omniglot-ddp CURVE secret key of ${label}: keep it private\n${pair.secretKey}\n`, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  writeFileSync(publicFile, `# omniglot-ddp CURVE public key of ${label}\n${pair.publicKey}\n`, { mode: 0o644 });
  return { secretFile, publicFile };
}
