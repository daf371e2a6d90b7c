// A throwaway PostgreSQL server for one test file: initdb into a temp folder, pg_ctl on a free
// port, its unix socket in the same folder. As root (which initdb refuses) it runs as the
// `postgres` user through runuser. Without binaries it returns undefined, except in CI (CI=true),
// where infra/bootstrap.sh installs them and a missing server is an error.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../infra/net';

export interface PgServer {
  url: string;
  stop: () => void;
}

/** initdb/pg_ctl on PATH, else Debian's versioned folder. */
function pgBin(name: string): string | undefined {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return name;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  for (const v of fs.readdirSync(root).sort().reverse()) {
    const p = path.join(root, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export async function startPostgres(): Promise<PgServer | undefined> {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  const required = process.env.CI === 'true';
  const unavailable = (why: string): undefined => {
    if (required) throw new Error(`PostgreSQL is required in CI: ${why} (infra/bootstrap.sh installs the postgresql package)`);
    return undefined;
  };
  if (!initdb || !pgCtl) return unavailable('initdb/pg_ctl not found');
  const root = process.getuid?.() === 0;
  if (root && (spawnSync('sh', ['-c', 'command -v runuser']).status !== 0 || spawnSync('id', ['postgres']).status !== 0))
    return unavailable('running as root without runuser or a postgres user');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-pg-'));
  const asPg = (cmd: string, args: string[]): void => {
    if (root) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
    else execFileSync(cmd, args, { stdio: 'pipe' });
  };
  const data = path.join(dir, 'data');
  try {
    if (root) execFileSync('chown', ['postgres', dir]);
    asPg(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const port = await freePort();
    asPg(pgCtl, ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(dir, 'log'), '-w', 'start']);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: () => {
        try {
          asPg(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    const log = fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-500) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    return unavailable(`could not start a throwaway server: ${err instanceof Error ? err.message.split('\n')[0] : String(err)} ${log}`);
  }
}
