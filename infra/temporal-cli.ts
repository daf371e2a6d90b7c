import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, TOOLS_BIN } from './paths';

export class TemporalUnavailableError extends Error {
  override readonly name = 'TemporalUnavailableError';
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Finds the Temporal CLI: `temporal` on PATH, then the project-local build, then builds it now
 * with `go install` (several minutes, once). Callers that have TEMPORAL_ADDRESS never get here.
 */
export function findOrInstallTemporalCli(log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): string {
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const local = path.join(TOOLS_BIN, 'temporal');
  if (existsSync(local)) return local;
  log('agentbalance: no Temporal CLI found; building it with go install (first run only, several minutes)');
  const r = spawnSync('bash', [path.join(PROJECT_ROOT, 'infra', 'install-temporal.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status === 0 && existsSync(local)) return local;
  throw new TemporalUnavailableError(
    'could not install the Temporal CLI (see the messages above). Set TEMPORAL_ADDRESS to use an existing Temporal server.',
  );
}
