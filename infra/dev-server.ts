import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findOrInstallTemporalCli, TemporalUnavailableError } from './temporal-cli';
import { stateDir } from './paths';
import { freePort, pidAlive, portOpen } from './net';
import { productEnv } from './env';

export interface DevServer {
  address: string;
  uiUrl: string;
  /** Whether this process started it (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

export const DEFAULT_PORT = 7233;

/**
 * Dynamic config that takes the dev server's fixed dispatch delay out of back-to-back work (#17).
 * Every workflow and activity task reaches matching through the history shard's transfer queue,
 * whose reader is rate-limited to `history.transferProcessorMaxPollRPS` reads per second (default
 * 20, i.e. one read per 50 ms). The dev server has a single history shard, so when work follows
 * work each new task waits for the next 50 ms slot: the ~45 ms scheduled-to-started wait. 1000
 * reads/s is still a bound (a read is one small query) but never the bottleneck of one machine.
 * Eager activity execution (off by default in server 1.29) hands an activity scheduled on the
 * workflow's own task queue straight back to the completing worker. Measured by bench/hop-probe.ts.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: readonly string[] = [
  'history.transferProcessorMaxPollRPS=1000',
  'system.enableActivityEagerExecution=true',
];

/** The `--dynamic-config-value` arguments for DEV_SERVER_DYNAMIC_CONFIG. */
export function devServerDynamicConfigArgs(): string[] {
  return DEV_SERVER_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]);
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

/** Where a state folder records the dev server it owns, so only processes of that folder reuse it. */
const RECORD_FILE = 'dev-server.json';
const LOCK_FILE = 'dev-server.lock';

interface ServerRecord {
  port: number;
  uiPort: number;
  /** The process that started the server (it stops it when done). */
  pid: number;
  /** The server process itself, to tell that a port still belongs to this folder's server. */
  serverPid?: number;
}

function readRecord(dir: string): ServerRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path.join(dir, RECORD_FILE), 'utf8')) as Partial<ServerRecord>;
    if (typeof r.port === 'number' && typeof r.uiPort === 'number' && typeof r.pid === 'number') {
      return { port: r.port, uiPort: r.uiPort, pid: r.pid, ...(typeof r.serverPid === 'number' ? { serverPid: r.serverPid } : {}) };
    }
  } catch {
    // absent or unreadable: no server recorded
  }
  return undefined;
}

/**
 * Whether the recorded server still serves this folder: where /proc exists, its command line must
 * name this folder's database (a port can be reused by another folder's server after a crash).
 */
async function recordedServerServes(dir: string, r: ServerRecord): Promise<boolean> {
  if (r.serverPid !== undefined) {
    try {
      const cmdline = readFileSync(`/proc/${r.serverPid}/cmdline`, 'utf8');
      if (!cmdline.includes(path.join(dir, 'temporal.sqlite'))) return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    }
  }
  return isTemporal(`127.0.0.1:${r.port}`);
}

/** The address of the dev server this state folder runs now, if any (for `agentbalance worker`). */
export async function recordedDevServer(): Promise<string | undefined> {
  const dir = stateDir();
  const r = readRecord(dir);
  return r && (await recordedServerServes(dir, r)) ? `127.0.0.1:${r.port}` : undefined;
}

/**
 * A start-up lock per state folder (exclusive create), so two processes of one folder never start
 * two servers on one SQLite file. A lock whose holder died is taken over.
 */
async function withStartLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8').trim() || 'NaN');
      if (!Number.isInteger(holder) || !pidAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another agentbalance process (pid ${holder}) holds ${lock}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/**
 * Starts the Temporal dev server that belongs to the state folder (its SQLite file there, so
 * workflows survive a restart), or reuses the one that folder already recorded. A server started
 * for another state folder is never reused: the default port is taken only when it is free, else
 * a free port is chosen and recorded in the folder.
 */
export async function startOrReuseDevServer(opts: { port?: number; uiPort?: number; log?: (m: string) => void } = {}): Promise<DevServer> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const dir = stateDir();
  mkdirSync(dir, { recursive: true });
  return withStartLock(dir, async () => {
    const recorded = readRecord(dir);
    if (recorded && (opts.port === undefined || opts.port === recorded.port) && (await recordedServerServes(dir, recorded))) {
      return { address: `127.0.0.1:${recorded.port}`, uiUrl: `http://127.0.0.1:${recorded.uiPort}`, owned: false, stop: async () => {} };
    }
    const wanted = opts.port ?? DEFAULT_PORT;
    let port = wanted;
    if (await portOpen(wanted)) {
      if (opts.port !== undefined) {
        throw new Error(`port ${wanted} is taken by another process (a Temporal server of another state folder, or something else)`);
      }
      port = await freePort();
    }
    const defaultUi = port === DEFAULT_PORT ? 8233 : undefined;
    let uiPort = opts.uiPort ?? (defaultUi !== undefined && !(await portOpen(defaultUi)) ? defaultUi : await freePort());
    let server: Awaited<ReturnType<typeof launch>>;
    try {
      server = await launch(port, uiPort, dir, log);
    } catch (err) {
      // Another state folder's server can take the default port between the check and the start
      // (two commands started at once): then any free port will do.
      if (opts.port !== undefined || port !== DEFAULT_PORT || !(await portOpen(DEFAULT_PORT))) throw err;
      port = await freePort();
      if (opts.uiPort === undefined) uiPort = await freePort();
      server = await launch(port, uiPort, dir, log);
    }
    const record: ServerRecord = { port, uiPort, pid: process.pid, ...(server.serverPid !== undefined ? { serverPid: server.serverPid } : {}) };
    writeFileSync(path.join(dir, RECORD_FILE), JSON.stringify(record));
    return {
      ...server,
      stop: async () => {
        await server.stop();
        if (readRecord(dir)?.pid === process.pid) rmSync(path.join(dir, RECORD_FILE), { force: true });
      },
    };
  });
}

/**
 * Whether process `pid` holds a listening TCP socket on `port` (Linux /proc). Where /proc cannot
 * tell, true: the caller then relies on the server answering.
 */
function listensOn(pid: number | undefined, port: number): boolean {
  if (pid === undefined) return true;
  let inodes: Set<string>;
  try {
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket inode
        if (f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
      }
    }
    if (inodes.size === 0) return false;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' });
      } catch {
        continue; // closed meanwhile
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) return true;
    }
    return false;
  } catch {
    return true;
  }
}

async function launch(port: number, uiPort: number, dir: string, log: (m: string) => void): Promise<DevServer & { serverPid?: number }> {
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
      ...devServerDynamicConfigArgs(),
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  const address = `127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + 60_000;
  // Ready only once *our* process listens: another folder's server may have taken the port after
  // it was found free, and would answer too (the child then exits with "address already in use").
  while (exited || !listensOn(child.pid, port) || !(await isTemporal(address))) {
    if (exited) throw new Error(`the Temporal dev server exited at start; see ${path.join(dir, 'temporal-server.log')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the Temporal dev server did not come up in 60 s; see ${path.join(dir, 'temporal-server.log')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  setRetention(exe, address, log);
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    owned: true,
    ...(child.pid !== undefined ? { serverPid: child.pid } : {}),
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
 * Finished workflows (one child per campaign run) stay in the dev server's database for the
 * namespace's retention, 24 h by default: a long campaign piles them up (issue #11). The results
 * store holds every run, so the local server keeps closed workflows for 1 h
 * (AGENTBALANCE_DEV_RETENTION overrides, e.g. 24h to inspect old histories in the UI).
 */
export const DEV_RETENTION = productEnv().AGENTBALANCE_DEV_RETENTION ?? '1h';
function setRetention(exe: string, address: string, log: (m: string) => void): void {
  const r = spawnSync(exe, ['operator', 'namespace', 'update', '--namespace', 'default', '--retention', DEV_RETENTION, '--address', address], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) log(`agentbalance: could not set the dev server's retention to ${DEV_RETENTION}: ${(r.stderr || r.stdout || '').trim().split('\n')[0]}`);
}

/**
 * Last resort where the internet is reachable: the Temporal SDK's own cached download of the dev
 * server (it fetches a release binary, which this project's offline machines cannot).
 */
async function sdkDownloadedServer(port: number, uiPort: number, dir: string, log: (m: string) => void, cause: Error): Promise<DevServer> {
  log('agentbalance: trying the Temporal SDK\'s cached dev-server download instead');
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: { ip: '127.0.0.1', port, ui: true, uiPort, dbFilename: path.join(dir, 'temporal.sqlite'), extraArgs: devServerDynamicConfigArgs() },
    });
    return { address: env.address, uiUrl: `http://127.0.0.1:${uiPort}`, owned: true, stop: () => env.teardown() };
  } catch {
    throw cause;
  }
}
