import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILTIN_POOLS, PoolFileError, parsePoolFile, type PoolFile } from '../core/pool-file';

/** Loading failures a user can act on; the message names the file (and field) and says why. */
export class PoolLoadError extends Error {
  override readonly name = 'PoolLoadError';
}

/**
 * A pool by built-in name (`sim-14`) or by path to a YAML/JSON pool file. Built-in names win over
 * same-named files in the working directory.
 */
export function loadPool(nameOrPath: string, cwd: string = process.cwd()): PoolFile {
  const builtin = BUILTIN_POOLS[nameOrPath];
  if (builtin) return builtin;
  const path = resolve(cwd, nameOrPath);
  if (!existsSync(path)) {
    throw new PoolLoadError(
      `${nameOrPath}: no such pool: not a built-in pool (${Object.keys(BUILTIN_POOLS).join(', ')}) and no file at ${path}`,
    );
  }
  if (!statSync(path).isFile()) throw new PoolLoadError(`${nameOrPath}: not a file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PoolLoadError(`${nameOrPath}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parsePoolFile(text, nameOrPath);
  } catch (err) {
    if (err instanceof PoolFileError) throw new PoolLoadError(err.message);
    throw err;
  }
}
