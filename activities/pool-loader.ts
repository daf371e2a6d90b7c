import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILTIN_POOLS, PoolFileError, parsePoolFile, type PoolFile } from '../core/pool-file';
import { stateDir } from '../infra/paths';

/** Loading failures a user can act on; the message names the file (and field) and says why. */
export class PoolLoadError extends Error {
  override readonly name = 'PoolLoadError';
}

/** Pools written by the product itself (e.g. `local up` writes `local.yaml`): `<state>/pools/`. */
export function statePoolsDir(): string {
  return join(stateDir(), 'pools');
}

/** The file of a pool named `name` in the state folder, if there is one. */
function statePoolFile(name: string): string | undefined {
  if (!/^[\w.-]+$/.test(name)) return undefined;
  return ['.yaml', '.yml', '.json'].map((ext) => join(statePoolsDir(), name + ext)).find((f) => existsSync(f));
}

/**
 * A pool by built-in name (`sim-14`), by path to a YAML/JSON pool file, or by the name of a pool
 * file in the state folder's `pools/` (`local`). Built-in names win over same-named files in the
 * working directory, which win over the state folder's pools.
 */
export function loadPool(nameOrPath: string, cwd: string = process.cwd()): PoolFile {
  const builtin = BUILTIN_POOLS[nameOrPath];
  if (builtin) return builtin;
  let path = resolve(cwd, nameOrPath);
  if (!existsSync(path)) path = statePoolFile(nameOrPath) ?? path;
  if (!existsSync(path)) {
    throw new PoolLoadError(
      `${nameOrPath}: no such pool: not a built-in pool (${Object.keys(BUILTIN_POOLS).join(', ')}), no file at ${path} and none in ${statePoolsDir()}` +
        (nameOrPath === 'local' ? ' (start the local models with `agentbalance local up`)' : ''),
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
