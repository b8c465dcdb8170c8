import { existsSync } from 'node:fs';
import path from 'node:path';
import { DdpError } from '../../shared/common/errors.js';

/**
 * The exported model folder from --model-dir or the first positional: a model/ folder itself, or a run folder
 * holding one. @throws DdpError ERR_BAD_CONFIG when neither is given or no model.json is there.
 */
export function resolveModelDir(flag: string | undefined, positional: string | undefined): string {
  const given = flag !== undefined && flag !== '' ? flag : positional;
  if (given === undefined) throw new DdpError('ERR_BAD_CONFIG', 'no model: give --model-dir <run folder or its model/ folder>');
  for (const dir of [given, path.join(given, 'model')]) {
    if (existsSync(path.join(dir, 'model.json'))) return dir;
  }
  throw new DdpError('ERR_BAD_CONFIG', `--model-dir: no model.json in ${given} or ${path.join(given, 'model')}`);
}
