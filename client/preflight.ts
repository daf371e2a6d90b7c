import { accessSync, constants, mkdirSync } from 'node:fs';
import net from 'node:net';
import { stateDir } from '../infra/paths';
import { UserError } from './errors';
import { productEnv } from '../infra/env';

/** Commands that write to the state folder (dev server, results, profiles, designers). */
const USES_STATE = new Set(['run', 'campaign', 'demo', 'report', 'profile', 'design', 'server', 'worker', 'serve']);
/** Commands that talk to Temporal (through TEMPORAL_ADDRESS when it is set). */
const USES_TEMPORAL = new Set(['run', 'campaign', 'demo', 'profile', 'design', 'worker', 'serve']);

/** The server the user configured (production path), or undefined for the embedded default. */
export function configuredServer(): { address: string; namespace: string } | undefined {
  const address = productEnv().TEMPORAL_ADDRESS;
  if (!address) return undefined;
  return { address, namespace: productEnv().TEMPORAL_NAMESPACE ?? 'default' };
}

/** How long an unreachable TEMPORAL_ADDRESS may take to be reported. */
export const TEMPORAL_PROBE_MS = 3000;

/**
 * Environment checks that run before a command does any work, so a bad state folder or an
 * unreachable server is one line within seconds, not an error after the dev server started.
 */
export async function preflight(command: string): Promise<void> {
  if (USES_STATE.has(command)) {
    checkStateDir();
    const url = productEnv().AGENTBALANCE_DATABASE_URL;
    if (url && !/^postgres(ql)?:\/\//i.test(url)) throw new UserError('AGENTBALANCE_DATABASE_URL: expected a postgres:// or postgresql:// URL');
  }
  if (USES_TEMPORAL.has(command)) {
    checkMetricsPort();
    const address = productEnv().TEMPORAL_ADDRESS;
    if (address) await probeTemporal(address);
  }
}

/** The state folder exists (or can be made) and is writable. */
export function checkStateDir(): string {
  const dir = stateDir();
  const what = productEnv().AGENTBALANCE_STATE_DIR ? 'AGENTBALANCE_STATE_DIR' : 'the state folder (set AGENTBALANCE_STATE_DIR to change it)';
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'it or a folder above it is a regular file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : (err as Error).message;
    throw new UserError(`${what}: cannot use ${dir} as the state folder: ${why}`);
  }
  return dir;
}

function checkMetricsPort(): void {
  const port = productEnv().AGENTBALANCE_METRICS_PORT;
  if (port !== undefined && (!/^\d+$/.test(port) || Number(port) > 65535)) {
    throw new UserError(`AGENTBALANCE_METRICS_PORT: expected a port number 0-65535, got "${port}"`);
  }
}

/** `host:port` (IPv6 in brackets), as TEMPORAL_ADDRESS takes it. */
function parseAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(address.trim());
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** A TCP connect to TEMPORAL_ADDRESS, so a wrong address fails in seconds and names the variable. */
async function probeTemporal(address: string, timeoutMs = TEMPORAL_PROBE_MS): Promise<void> {
  const hp = parseAddress(address);
  if (!hp) throw new UserError(`TEMPORAL_ADDRESS: expected host:port, got "${address}"`);
  const problem = await new Promise<string | undefined>((resolve) => {
    const sock = net.connect({ host: hp.host, port: hp.port });
    const done = (why: string | undefined) => {
      sock.destroy();
      resolve(why);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer in ${timeoutMs / 1000} s`));
    sock.once('connect', () => done(undefined));
    sock.once('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'unknown host' : (e.code ?? e.message)),
    );
  });
  if (problem) {
    throw new UserError(`TEMPORAL_ADDRESS=${address}: cannot reach a Temporal server there (${problem}); unset it to use the embedded dev server`);
  }
}
