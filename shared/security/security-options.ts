import { DdpError } from '../common/errors.js';
import { readAllowList, readKeyPair, resolvePublicKey, type CurveKeyPair } from './curve-keys.js';

type Flag = string | number | boolean | undefined;
const text = (v: Flag): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The coordinator's security from its flags: CURVE when a secret key file is given, else plain. */
export type ServerSecurityChoice =
  | { readonly kind: 'plain'; readonly insecure: boolean }
  | ({ readonly kind: 'curve'; readonly allowList: ReadonlySet<string> } & CurveKeyPair);

/**
 * @throws DdpError ERR_BAD_CONFIG for an allow-list without a key, a key without an allow-list, or files that do not
 * read as keys.
 */
export function serverSecurityFrom(values: { readonly [name: string]: Flag }): ServerSecurityChoice {
  const secretFile = text(values['curve-secret-key-file']);
  const publicFile = text(values['curve-public-key-file']);
  const allowFile = text(values['allow-list']);
  if (secretFile === undefined) {
    if (allowFile !== undefined || publicFile !== undefined) {
      throw new DdpError('ERR_BAD_CONFIG', '--allow-list and --curve-public-key-file need --curve-secret-key-file (the coordinator\'s key) to turn CURVE on');
    }
    return { kind: 'plain', insecure: values['insecure'] === true };
  }
  if (allowFile === undefined) {
    throw new DdpError('ERR_BAD_CONFIG', '--curve-secret-key-file needs --allow-list: the public keys of the workers that may join');
  }
  return { kind: 'curve', ...readKeyPair(secretFile, publicFile), allowList: readAllowList(allowFile) };
}

export type ClientSecurityChoice = { readonly kind: 'plain' } | ({ readonly kind: 'curve'; readonly serverKey: string } & CurveKeyPair);

/** A worker's security from its flags. @throws DdpError ERR_BAD_CONFIG when only half of CURVE is given. */
export function clientSecurityFrom(values: { readonly [name: string]: Flag }): ClientSecurityChoice {
  const secretFile = text(values['curve-secret-key-file']);
  const publicFile = text(values['curve-public-key-file']);
  const coordinatorKey = text(values['coordinator-key']);
  if (secretFile === undefined && coordinatorKey === undefined) {
    if (publicFile !== undefined) throw new DdpError('ERR_BAD_CONFIG', '--curve-public-key-file needs --curve-secret-key-file');
    return { kind: 'plain' };
  }
  if (secretFile === undefined) throw new DdpError('ERR_BAD_CONFIG', '--coordinator-key needs --curve-secret-key-file (this worker\'s own key)');
  if (coordinatorKey === undefined) throw new DdpError('ERR_BAD_CONFIG', '--curve-secret-key-file needs --coordinator-key (the coordinator\'s public key)');
  return { kind: 'curve', ...readKeyPair(secretFile, publicFile), serverKey: resolvePublicKey(coordinatorKey, '--coordinator-key') };
}
