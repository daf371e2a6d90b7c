/**
 * Runs untrusted python (model answers plus benchmark tests) in a contained subprocess.
 *
 * Containment, in layers (probed once per process, see `sandboxInfo()`):
 * - `unshare --net --pid --fork --kill-child` when it works (it needs root or user namespaces):
 *   an empty network namespace (no interfaces up, so no network at all) and a private pid
 *   namespace, so every process the candidate starts dies with it. Without it, the process group
 *   is killed instead and network is blocked only by the audit hook below.
 * - a python wrapper (`-I` isolated mode: no PYTHON* env, no user site, no cwd on sys.path) that
 *   sets rlimits — address space (1 GiB), file size, CPU seconds, no core files, process count —
 *   then, when running as root and an interpreter readable by others exists, switches to a fresh
 *   unprivileged uid for this run (root ignores RLIMIT_NPROC; a per-run uid makes the fork limit
 *   count only this run's processes), installs an audit hook that refuses socket connect/bind/
 *   DNS, and execs the program.
 * - the Node side: a temp folder (removed after), a minimal environment (no inherited secrets), a
 *   wall-clock timeout that SIGKILLs the whole process group, and an output cap (default 1 MiB)
 *   that kills the run once exceeded. Everything is asynchronous: the event loop never waits.
 * Pass/fail: exit code 0 *and* a per-run nonce written by the wrapper to fd 3 after the tests ran,
 * so an early `os._exit(0)` or `sys.exit(0)` in the candidate does not count as passing.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AnswerKey } from '../../core/task';

export type CodeAnswerKey = Extract<AnswerKey, { kind: 'code' }>;

export interface CodeExecOptions {
  /** Wall-clock limit in ms (default 10 000). */
  timeoutMs?: number;
  /** RLIMIT_AS in bytes (default 1 GiB). */
  memoryBytes?: number;
  /** Largest file the program may write, bytes (default 16 MiB). */
  maxFileBytes?: number;
  /** Processes/threads of the run (default 32; enforced only with a per-run uid or when not root). */
  maxProcesses?: number;
  /** stdout + stderr bytes kept before the run is stopped (default 1 MiB). */
  maxOutputBytes?: number;
}

type CodeExecStatus = 'passed' | 'failed' | 'timeout' | 'output_limit' | 'error';

export interface CodeExecResult {
  status: CodeExecStatus;
  passed: boolean;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Up to the last 4 KiB of each stream, for diagnostics. */
  stdoutTail: string;
  stderrTail: string;
  outputBytes: number;
}

export interface SandboxInfo {
  python: string;
  pythonVersion: string;
  /** How network access is prevented. */
  network: 'netns+audit-hook' | 'audit-hook';
  /** Processes die with the run's pid namespace (else: process-group kill). */
  pidNamespace: boolean;
  /** Each run gets a fresh unprivileged uid, so RLIMIT_NPROC is enforced per run. */
  perRunUid: boolean;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  memoryBytes: 1024 ** 3,
  maxFileBytes: 16 * 1024 ** 2,
  maxProcesses: 32,
  maxOutputBytes: 1024 ** 2,
} as const;

/** The wrapper: limits, privilege drop, network hook, then the program. Receives its config as argv[1]. */
const WRAPPER = String.raw`
import json, os, resource, sys
cfg = json.loads(sys.argv[1])
nonce = cfg["nonce"]
def lim(which, value):
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass
lim(resource.RLIMIT_AS, cfg["mem"])
lim(resource.RLIMIT_FSIZE, cfg["fsize"])
lim(resource.RLIMIT_CORE, 0)
lim(resource.RLIMIT_CPU, cfg["cpu"])
uid = cfg.get("uid")
if uid is not None and os.geteuid() == 0:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
if os.geteuid() != 0:
    # counts every process of this uid: with a per-run uid that is just this run
    lim(resource.RLIMIT_NPROC, cfg["nproc"] + cfg.get("nprocBase", 0))
os.environ["HOME"] = os.getcwd()
BLOCKED = {"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}
def _no_network(event, args):
    if event in BLOCKED:
        raise PermissionError("network access is disabled in the grading sandbox")
sys.addaudithook(_no_network)
with open(cfg["program"], "r", encoding="utf-8") as f:
    src = f.read()
sys.argv = [cfg["program"]]
scope = {"__name__": "__candidate__", "__builtins__": __builtins__}
try:
    exec(compile(src, cfg["program"], "exec"), scope)
except SystemExit as e:
    sys.stderr.write("program called exit(%r) before the tests finished\n" % (e.code,))
    sys.stderr.flush()
    os._exit(1)
except BaseException:
    import traceback
    traceback.print_exc(limit=8)
    sys.stderr.flush()
    os._exit(1)
sys.stdout.flush()
sys.stderr.flush()
try:
    os.write(3, nonce.encode())
except OSError:
    os._exit(2)
os._exit(0)
`;
import { productEnv } from '../../infra/env';

/** Minimal environment: nothing from the parent (API keys, tokens) reaches the candidate. */
function sandboxEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', HOME: home, TMPDIR: home };
}

interface Probe {
  info: SandboxInfo;
  unshare: string | null;
}

let probePromise: Promise<Probe> | null = null;

async function isExecutable(p: string): Promise<boolean> {
  try {
    await fs.access(p, fsConstants.X_OK);
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function which(cmd: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, cmd);
    if (await isExecutable(p)) return p;
  }
  return null;
}

interface Spawned {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Small helper for probes: run to completion with a timeout, output capped at 64 KiB. */
function runSimple(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<Spawned> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: sandboxEnv(os.tmpdir()), detached: true });
    const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 65536) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 65536) stderr += d.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, stdout, stderr: String(e.message) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

const PROBE_PROGRAM = 'import sys, json, math, re, collections, itertools, hashlib, heapq, typing; print(sys.executable); print(sys.version.split()[0])';

/** Finds the interpreter and the strongest containment this machine supports; cached. */
export function sandboxInfo(): Promise<SandboxInfo> {
  return probe().then((p) => p.info);
}

function probe(): Promise<Probe> {
  probePromise ??= doProbe();
  return probePromise;
}

async function doProbe(): Promise<Probe> {
  const candidates: string[] = [];
  const override = productEnv().AGENTBALANCE_PYTHON;
  if (override) candidates.push(override);
  const onPath = await which('python3');
  if (onPath) {
    // resolve shims (pyenv and the like) to the real interpreter: cheaper to start
    const r = await runSimple(onPath, ['-I', '-c', 'import sys; print(sys.executable)']);
    const real = r.code === 0 ? r.stdout.trim() : '';
    candidates.push(real !== '' ? real : onPath);
  }
  candidates.push('/usr/bin/python3', '/usr/local/bin/python3');
  const pythons = [...new Set(candidates)];

  const unshareBin = await which('unshare');
  let unshare: string | null = null;
  if (unshareBin) {
    const r = await runSimple(unshareBin, ['--net', '--pid', '--fork', '--kill-child', '--', '/bin/true']);
    if (r.code === 0) unshare = unshareBin;
  }

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let fallback: { python: string; version: string } | null = null;
  for (const py of pythons) {
    if (!(await isExecutable(py))) continue;
    const plain = await runSimple(py, ['-I', '-c', PROBE_PROGRAM]);
    if (plain.code !== 0) continue;
    const version = plain.stdout.trim().split('\n')[1] ?? '';
    fallback ??= { python: py, version };
    if (!isRoot) break;
    // a per-run uid needs an interpreter and stdlib that others can read
    const uid = 2_000_000_000 + randomInt(0, 100_000_000);
    const dropped = await runSimple(py, [
      '-I',
      '-c',
      `import os; os.setgroups([]); os.setgid(${uid}); os.setuid(${uid}); ${PROBE_PROGRAM}`,
    ]);
    if (dropped.code === 0) {
      return {
        unshare,
        info: { python: py, pythonVersion: version, network: unshare ? 'netns+audit-hook' : 'audit-hook', pidNamespace: !!unshare, perRunUid: true },
      };
    }
  }
  if (!fallback) throw new Error('python3 not found: code grading needs a python3 interpreter (set AGENTBALANCE_PYTHON)');
  return {
    unshare,
    info: {
      python: fallback.python,
      pythonVersion: fallback.version,
      network: unshare ? 'netns+audit-hook' : 'audit-hook',
      pidNamespace: !!unshare,
      perRunUid: false,
    },
  };
}

/** Bounded concurrency so a burst of grading does not fork hundreds of interpreters at once. */
class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    return () => {
      this.active--;
      this.waiters.shift()?.();
    };
  }
}

const slots = new Semaphore(Math.max(2, Math.min(8, os.cpus().length)));

class Tail {
  private buf = '';
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.buf = (this.buf + s).slice(-this.max);
  }
  toString(): string {
    return this.buf;
  }
}

/**
 * Tasks (processes and threads) of the current uid: RLIMIT_NPROC counts all of them when we cannot
 * switch to a per-run uid, so the limit is set relative to this count.
 */
async function tasksOfCurrentUser(): Promise<number> {
  if (typeof process.getuid !== 'function') return 0;
  const uid = process.getuid();
  let n = 0;
  try {
    for (const name of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if ((await fs.stat(`/proc/${name}`)).uid === uid) n += (await fs.readdir(`/proc/${name}/task`)).length;
      } catch {
        /* exited meanwhile */
      }
    }
  } catch {
    return 4096; // no /proc: leave generous headroom
  }
  return n;
}

/** Runs a python program in the sandbox. `source` is the whole program (candidate + tests). */
export async function runPythonSandboxed(source: string, options: CodeExecOptions = {}): Promise<CodeExecResult> {
  const opt = { ...DEFAULTS, ...options };
  const { info, unshare } = await probe();
  const release = await slots.acquire();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'agentbalance-exec-'));
  try {
    const program = path.join(dir, 'program.py');
    await fs.writeFile(program, source, { encoding: 'utf8', mode: 0o644 });
    const uid = info.perRunUid ? 2_000_000_000 + randomInt(0, 100_000_000) : null;
    if (uid !== null) await fs.chown(dir, uid, uid);
    const nonce = randomBytes(16).toString('hex');
    const cfg = {
      nonce,
      program,
      mem: opt.memoryBytes,
      fsize: opt.maxFileBytes,
      cpu: Math.ceil(opt.timeoutMs / 1000) + 1,
      nproc: opt.maxProcesses,
      nprocBase: uid === null ? await tasksOfCurrentUser() : 0,
      uid,
    };
    const pyArgs = ['-I', '-c', WRAPPER, JSON.stringify(cfg)];
    const [cmd, args] = unshare
      ? [unshare, ['--net', '--pid', '--fork', '--kill-child', '--', info.python, ...pyArgs]]
      : [info.python, pyArgs];
    return await execute(cmd, args, dir, nonce, opt);
  } finally {
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    release();
  }
}

function execute(
  cmd: string,
  args: readonly string[],
  cwd: string,
  nonce: string,
  opt: Required<CodeExecOptions>,
): Promise<CodeExecResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(cmd, args, {
      cwd,
      env: sandboxEnv(cwd),
      detached: true, // own process group: one kill reaches every descendant
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const stdoutTail = new Tail(4096);
    const stderrTail = new Tail(4096);
    let outputBytes = 0;
    let marker = '';
    let reason: 'timeout' | 'output_limit' | null = null;
    let settled = false;

    const stop = (why: 'timeout' | 'output_limit'): void => {
      reason ??= why;
      killGroup(child.pid);
    };
    const timer = setTimeout(() => stop('timeout'), opt.timeoutMs);
    const onOutput = (tail: Tail) => (d: Buffer) => {
      outputBytes += d.length;
      tail.push(d.toString('utf8'));
      if (outputBytes > opt.maxOutputBytes) stop('output_limit');
    };
    child.stdout?.on('data', onOutput(stdoutTail));
    child.stderr?.on('data', onOutput(stderrTail));
    const fd3 = child.stdio[3];
    if (fd3 && 'on' in fd3) {
      fd3.on('data', (d: Buffer) => {
        if (marker.length < 256) marker += d.toString('utf8');
      });
      fd3.on('error', () => undefined);
    }

    const finish = (code: number | null, signal: string | null, spawnError?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup(child.pid); // leftovers (daemonised children) go with the group
      const passed = reason === null && code === 0 && marker === nonce;
      const status: CodeExecStatus = spawnError
        ? 'error'
        : reason !== null
          ? reason
          : passed
            ? 'passed'
            : 'failed';
      resolve({
        status,
        passed,
        exitCode: code,
        signal,
        durationMs: Date.now() - started,
        stdoutTail: stdoutTail.toString(),
        stderrTail: spawnError ?? stderrTail.toString(),
        outputBytes,
      });
    };
    child.on('error', (e) => finish(null, null, `cannot start the sandbox: ${e.message}`));
    // 'close' waits for the pipes; if something still holds them after exit, do not wait long
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), 500).unref();
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/**
 * The program that grades a code answer: prelude (e.g. the HumanEval prompt, so a body-only
 * completion runs and a full function simply redefines it), the candidate, then the tests.
 */
function buildProgram(key: CodeAnswerKey, candidate: string): string {
  const parts = [key.prelude, candidate, key.tests].filter((p) => p.trim() !== '');
  return `${parts.map((p) => p.replace(/\r\n/g, '\n').replace(/\s+$/, '')).join('\n\n')}\n`;
}

/** Runs the key's tests against candidate code. */
export function runCodeTests(key: CodeAnswerKey, candidate: string, options?: CodeExecOptions): Promise<CodeExecResult> {
  return runPythonSandboxed(buildProgram(key, candidate), options);
}
