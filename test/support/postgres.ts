import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PgServer {
  url: string;
  stop: () => void;
}

/** A throwaway local PostgreSQL server (initdb + pg_ctl on a random port), or undefined without the binaries. */
export function startPostgres(): PgServer | undefined {
  const which = (b: string): boolean => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0;
  if (!which('initdb') || !which('pg_ctl')) return undefined;
  const root = process.getuid?.() === 0;
  if (root && (!which('runuser') || spawnSync('id', ['postgres']).status !== 0)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-pg-'));
  const asPg = (cmd: string, args: string[]): void => {
    if (root) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
    else execFileSync(cmd, args, { stdio: 'ignore' });
  };
  try {
    if (root) execFileSync('chown', ['postgres', dir]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const data = path.join(dir, 'data');
    asPg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
    asPg('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', path.join(dir, 'log'), '-w', 'start']);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: () => {
        try {
          asPg('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}
