import path from 'node:path';
import { productEnv } from './env';

/** The project root (this file lives in <root>/infra); the one definition, import it rather than resolving `..` again. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');

/** Where durable local state lives: the dev server's SQLite file, results, artifacts. */
export function stateDir(): string {
  return path.resolve(productEnv().AGENTBALANCE_STATE_DIR ?? path.join(PROJECT_ROOT, '.state'));
}
