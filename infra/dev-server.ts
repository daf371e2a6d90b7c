import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findOrInstallTemporalCli, TemporalUnavailableError } from './temporal-cli';
import { stateDir } from './paths';

export interface DevServer {
  address: string;
  uiUrl: string;
  /** Whether this process started it (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 7233;

async function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
    sock.setTimeout(500, () => { sock.destroy(); resolve(false); });
  });
}

async function isTemporal(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: 2000 });
    await c.workflowService.getSystemInfo({});
    await c.close();
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts the Temporal dev server with its SQLite file in the state folder (so workflows survive a
 * restart), or reuses one already serving on the default port.
 */
export async function startOrReuseDevServer(opts: { port?: number; uiPort?: number; log?: (m: string) => void } = {}): Promise<DevServer> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const wanted = opts.port ?? DEFAULT_PORT;
  const wantedAddress = `127.0.0.1:${wanted}`;
  if (await portOpen(wanted)) {
    if (await isTemporal(wantedAddress)) {
      return { address: wantedAddress, uiUrl: `http://127.0.0.1:${opts.uiPort ?? wanted + 1000}`, owned: false, stop: async () => {} };
    }
    if (opts.port !== undefined) throw new Error(`port ${wanted} is taken by something that is not a Temporal server`);
  }
  const port = (await portOpen(wanted)) ? await freePort() : wanted;
  const uiPort = opts.uiPort ?? (port === DEFAULT_PORT ? 8233 : await freePort());
  const dir = stateDir();
  mkdirSync(dir, { recursive: true });
  let exe: string;
  try {
    exe = findOrInstallTemporalCli(log);
  } catch (err) {
    if (!(err instanceof TemporalUnavailableError)) throw err;
    return sdkDownloadedServer(port, uiPort, dir, log, err);
  }
  const logFd = openSync(path.join(dir, 'temporal-server.log'), 'a');
  const child: ChildProcess = spawn(
    exe,
    [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--ui-port', String(uiPort),
      '--db-filename', path.join(dir, 'temporal.sqlite'),
      // WAL with synchronous=NORMAL survives a crash of the server process (what durability here
      // is about) without an fsync per history write, which otherwise caps throughput.
      '--sqlite-pragma', 'journal_mode=wal',
      '--sqlite-pragma', 'synchronous=normal',
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  const address = `127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + 60_000;
  while (!(await isTemporal(address))) {
    if (exited) throw new Error(`the Temporal dev server exited at start; see ${path.join(dir, 'temporal-server.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not come up in 60 s; see ${path.join(dir, 'temporal-server.log')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    owned: true,
    stop: async () => {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

/**
 * Last resort where the internet is reachable: the Temporal SDK's own cached download of the dev
 * server (it fetches a release binary, which this project's offline machines cannot).
 */
async function sdkDownloadedServer(port: number, uiPort: number, dir: string, log: (m: string) => void, cause: Error): Promise<DevServer> {
  log('agentbalance: trying the Temporal SDK\'s cached dev-server download instead');
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { ip: '127.0.0.1', port, ui: true, uiPort, dbFilename: path.join(dir, 'temporal.sqlite') },
    });
    return { address: env.address, uiUrl: `http://127.0.0.1:${uiPort}`, owned: true, stop: () => env.teardown() };
  } catch {
    throw cause;
  }
}
