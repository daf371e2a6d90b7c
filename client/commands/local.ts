import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parsePoolData, POOL_FILE_VERSION, type PoolFile } from '../../core/pool-file';
import { statePoolsDir } from '../../activities/pool-loader';
import { PROJECT_ROOT } from '../../infra/paths';
import {
  LOCAL_MODELS,
  engineDir,
  parseGgufSpec,
  serverLogFile,
  serverRecordFile,
  type LocalModel,
  type ServedModel,
} from '../../infra/model-server/catalog';
import { installLocalEngine, InstallError } from '../../infra/model-server/install';
import { readServerRecord, type ServerRecord } from '../../infra/model-server/record';
import { UserError } from '../errors';
import { checkStateDir } from '../preflight';
import { pidAlive } from '../../infra/net';

/**
 * `local up | down | status`: real GGUF models on this machine behind an OpenAI-compatible server,
 * and a pool file `local` pointing the product's `openai` provider at it.
 */

const LOCAL_POOL = 'local';
const localPoolFile = (): string => path.join(statePoolsDir(), `${LOCAL_POOL}.yaml`);

export interface Price {
  in: number;
  out: number;
}

const PriceFlag = z
  .string()
  .regex(
    /^[a-z0-9*][a-z0-9._-]*=\d+(\.\d+)?,\d+(\.\d+)?$/,
    'expected ID=IN,OUT (USD per 1M input and output tokens), e.g. smollm2-135m=0.02,0.04 or *=0.1,0.2',
  );

function collectPrice(value: string, acc: Record<string, Price>): Record<string, Price> {
  const r = PriceFlag.safeParse(value);
  if (!r.success) throw new UserError(`--price ${value}: ${r.error.issues[0]?.message ?? 'invalid'}`);
  const [id, nums] = value.split('=') as [string, string];
  const [pin, pout] = nums.split(',').map(Number) as [number, number];
  return { ...acc, [id]: { in: pin, out: pout } };
}

function parseModels(list: string, allowNone = false): LocalModel[] {
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const models = ids.map((id) => {
    const m = LOCAL_MODELS.find((x) => x.id === id);
    if (!m) throw new UserError(`--models: unknown model ${id} (${LOCAL_MODELS.map((x) => x.id).join(', ')})`);
    return m;
  });
  if (models.length === 0 && !allowNone) throw new UserError('--models: name at least one model');
  return models;
}

function positiveInt(flag: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} ${value}: expected an integer ≥ ${min}`);
  return n;
}

/** The pool file for a running server: real `openai` backbones at its base URL; prices as declared. */
export function localPoolFor(record: ServerRecord, prices: Readonly<Record<string, Price>>): PoolFile {
  const declared = Object.keys(prices).length > 0;
  const backbones = record.models.map((id) => {
    const price = prices[id] ?? prices['*'] ?? { in: 0, out: 0 };
    const cal = record.calibration[id];
    if (!cal) throw new Error(`server record has no measurement for model ${id}`);
    return {
      id,
      provider: 'openai' as const,
      model: id,
      baseUrl: record.baseUrl,
      noApiKey: true,
      priceInPerMTok: price.in,
      priceOutPerMTok: price.out,
      latency: { ttftS: round(cal.ttftS, 4), prefillTps: round(cal.prefillTps, 1), decodeTps: round(cal.decodeTps, 2) },
      contextWindow: record.contextSize,
      reasoning: false,
    };
  });
  return parsePoolData(
    {
      version: POOL_FILE_VERSION,
      name: LOCAL_POOL,
      simulated: false,
      priceTableVersion: declared ? 'declared-by-user' : 'declared-by-user: none (free)',
      description: `Real GGUF models served on this machine by node-llama-cpp (${record.baseUrl}); written by \`agentbalance local up\`.`,
      notes: [
        declared
          ? `Prices are declared by the user (local up --price ${Object.entries(prices)
              .map(([k, v]) => `${k}=${v.in},${v.out}`)
              .join(' --price ')}), USD per 1M tokens: not market prices, local compute has no token price.`
          : 'Prices are 0: none declared (local up --price ID=IN,OUT sets them, USD per 1M tokens). With 0 prices every cost budget is unbounded.',
        `Latency: measured by the server at start-up (${record.calibration[record.models[0]!]?.measuredAt ?? '?'}, two 16-token generations per model, ${record.threads} thread(s) per model, one request at a time per model). \`agentbalance profile --pool local\` refits it from real calls.`,
        `Output: the server caps every generation at ${record.maxOutputTokens} tokens (local up --max-output), whatever max_tokens asks; a capped answer ends with finish_reason "length".`,
        'Abilities: none here. The designer gets them only from `agentbalance profile --pool local` (real calls, graded).',
        ...record.modelInfo.map((m) => `${m.id}: ${m.title}, ${m.note}.`),
      ],
      backbones,
    },
    localPoolFile(),
  );
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function writeLocalPool(pool: PoolFile): string {
  const file = localPoolFile();
  mkdirSync(path.dirname(file), { recursive: true });
  const header =
    '# Written by `agentbalance local up`; rewritten at every `up`. Copy it elsewhere to edit it:\n' +
    '# baseUrl and model can point at any OpenAI-compatible server (vLLM, llama.cpp server, a hosted API).\n';
  writeFileSync(file, header + stringify(pool, { lineWidth: 0 }));
  return file;
}

const HealthSchema = z
  .object({
    status: z.literal('ok'),
    pid: z.number(),
    models: z.array(
      z
        .object({
          id: z.string(),
          queued: z.number(),
          requests: z.number(),
          completed: z.number(),
          aborted: z.number(),
          completionTokens: z.number(),
        })
        .loose(),
    ),
  })
  .loose();
type LocalHealth = z.infer<typeof HealthSchema>;

async function fetchHealth(record: ServerRecord, timeoutMs = 3000): Promise<LocalHealth | undefined> {
  try {
    const res = await fetch(`http://${record.host}:${record.port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const parsed = HealthSchema.safeParse(await res.json());
    return parsed.success && parsed.data.pid === record.pid ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The running server of this state folder, if its process is alive and answers as itself. */
async function runningServer(): Promise<ServerRecord | undefined> {
  const record = readServerRecord(serverRecordFile());
  if (!record || !pidAlive(record.pid)) return undefined;
  return (await fetchHealth(record)) ? record : undefined;
}

function logTail(lines = 5): string {
  try {
    return readFileSync(serverLogFile(), 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

export interface UpOptions {
  /** Catalog models (installed when missing). */
  models: readonly LocalModel[];
  /** Other GGUF files to serve, as given to --gguf. */
  gguf?: readonly ServedModel[];
  threads: number;
  context: number;
  /** Cap on every generation (tiny models ramble up to whatever max_tokens allows). */
  maxOutput: number;
  port: number;
  prices: Readonly<Record<string, Price>>;
  install: boolean;
  log: (line: string) => void;
  startTimeoutS?: number;
}

/** Installs what is missing, starts the server detached (unless running) and writes the pool file. */
export async function localUp(
  o: UpOptions,
): Promise<{ record: ServerRecord; pool: PoolFile; poolFile: string; started: boolean }> {
  let record = await runningServer();
  let started = false;
  if (record) {
    o.log(`local model server already running (pid ${record.pid}) at ${record.baseUrl}`);
  } else {
    if (o.install) {
      try {
        await installLocalEngine(o.models, o.log);
      } catch (err) {
        if (err instanceof InstallError) throw new UserError(err.message);
        throw err;
      }
    }
    mkdirSync(engineDir(), { recursive: true });
    rmSync(serverRecordFile(), { force: true });
    const logFd = openSync(serverLogFile(), 'a');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'infra', 'model-server', 'main.ts'),
        '--models',
        o.models.map((m) => m.id).join(','),
        ...(o.gguf ?? []).flatMap((g) => ['--gguf', `${g.id}=${g.path}:${g.prompt}`]),
        '--threads',
        String(o.threads),
        '--context',
        String(o.context),
        '--max-output',
        String(o.maxOutput),
        '--port',
        String(o.port),
        '--record',
        serverRecordFile(),
      ],
      { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', logFd, logFd], env: process.env },
    );
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    child.unref();
    o.log(
      `starting the model server (pid ${child.pid}; log ${serverLogFile()}); loading and measuring ${o.models.length + (o.gguf?.length ?? 0)} model(s)...`,
    );
    const deadline = Date.now() + (o.startTimeoutS ?? 300) * 1000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      if (exited !== undefined) throw new Error(`the model server exited (code ${exited}) before it was ready: ${logTail()}`);
      const r = readServerRecord(serverRecordFile());
      if (r && r.pid === child.pid && (await fetchHealth(r))) {
        record = r;
        break;
      }
      if (Date.now() > deadline) {
        if (child.pid) process.kill(child.pid, 'SIGKILL');
        throw new Error(`the model server was not ready after ${o.startTimeoutS ?? 300} s: ${logTail()}`);
      }
    }
    started = true;
  }
  const pool = localPoolFor(record, o.prices);
  return { record, pool, poolFile: writeLocalPool(pool), started };
}

/** Stops the server of this state folder (SIGTERM, then SIGKILL after 10 s). */
export async function localDown(log: (line: string) => void): Promise<boolean> {
  const record = readServerRecord(serverRecordFile());
  if (!record || !pidAlive(record.pid)) {
    rmSync(serverRecordFile(), { force: true });
    log('local model server: not running');
    return false;
  }
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pidAlive(record.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(record.pid)) process.kill(record.pid, 'SIGKILL');
  rmSync(serverRecordFile(), { force: true });
  log(
    `local model server stopped (pid ${record.pid}); the pool file ${localPoolFile()} stays (its calls fail until \`local up\`)`,
  );
  return true;
}

export function registerLocalCommands(program: Command): void {
  const local = program
    .command('local')
    .description('real GGUF models on this machine (offline): an OpenAI-compatible server and the pool file `local`');
  const err = (line: string) => void process.stderr.write(`${line}\n`);

  local
    .command('up')
    .description('install the models and node-llama-cpp when missing, start the server detached, write the pool file `local`')
    .option(
      '--models <ids>',
      `models to serve: ${LOCAL_MODELS.map((m) => m.id).join(', ')} or none (default: all; none when --gguf is given)`,
    )
    .option(
      '--gguf <id=path[:chat|:completion]>',
      'also serve any GGUF file (repeatable); :completion for a base model',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--price <id=in,out>',
      'declare a price, USD per 1M input,output tokens (repeatable; id * for all). Default 0',
      collectPrice,
      {},
    )
    .option('--threads <n>', 'CPU threads per model (1 is fastest on a busy 2-core machine)', '1')
    .option('--context <tokens>', 'context size per model', '2048')
    .option('--max-output <tokens>', 'the server caps every generation at this many tokens', '256')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', '0')
    .option('--no-install', 'fail instead of installing what is missing')
    .option('--json', 'print the server record and pool file path as JSON')
    .action(
      async (o: {
        models?: string;
        gguf: string[];
        price: Record<string, Price>;
        threads: string;
        context: string;
        maxOutput: string;
        port: string;
        install: boolean;
        json?: boolean;
      }) => {
        checkStateDir();
      const gguf = o.gguf.map((g) => {
          const m = parseGgufSpec(g);
          if (!m)
            throw new UserError(
              `--gguf ${g}: expected ID=PATH[:chat|:completion], e.g. qwen=./qwen2.5-0.5b-instruct-q4_k_m.gguf`,
            );
          if (!existsSync(m.path)) throw new UserError(`--gguf ${g}: no file at ${m.path}`);
          return m;
        });
        const models =
          o.models === 'none'
            ? []
            : parseModels(o.models ?? (gguf.length > 0 ? '' : LOCAL_MODELS.map((m) => m.id).join(',')), gguf.length > 0);
        const ids = [...models.map((m) => m.id), ...gguf.map((g) => g.id)];
        if (new Set(ids).size !== ids.length) throw new UserError(`--gguf: model ids must be unique (${ids.join(', ')})`);
        for (const id of Object.keys(o.price)) {
          if (id !== '*' && !ids.includes(id))
            throw new UserError(`--price ${id}=…: unknown model ${id} (served: ${ids.join(', ')}, or *)`);
        }
        const res = await localUp({
          models,
          gguf,
          threads: positiveInt('--threads', o.threads),
          context: positiveInt('--context', o.context, 256),
          maxOutput: positiveInt('--max-output', o.maxOutput),
          port: positiveInt('--port', o.port, 0),
          prices: o.price,
          install: o.install,
          log: err,
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...res.record, poolFile: res.poolFile, started: res.started })}\n`);
          return;
        }
        const lines = [
          `local model server: ${res.record.baseUrl} (pid ${res.record.pid}, ${res.record.threads} thread(s) per model)`,
          ...res.record.models.map((id) => {
            const c = res.record.calibration[id]!;
            return `  ${id.padEnd(14)} decode ${c.decodeTps.toFixed(1)} tok/s, prefill ${c.prefillTps.toFixed(0)} tok/s (measured at start-up)`;
          }),
          `pool file: ${res.poolFile} (use --pool local)`,
          Object.keys(o.price).length === 0
            ? 'prices: 0 (none declared; set them with --price ID=IN,OUT)'
            : 'prices: as declared with --price',
          'next: npx agentbalance profile --pool local --benchmark sample-mc   (abilities and latency from real calls)',
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );

  local
    .command('down')
    .description('stop the local model server')
    .action(async () => {
      await localDown((l) => void process.stdout.write(`${l}\n`));
    });

  local
    .command('status')
    .description('is the local model server running; its queues and counters (aborted generations included)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const record = readServerRecord(serverRecordFile());
      const health = record && pidAlive(record.pid) ? await fetchHealth(record) : undefined;
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ running: health !== undefined, record: record ?? null, health: health ?? null, poolFile: existsSync(localPoolFile()) ? localPoolFile() : null })}\n`,
        );
        return;
      }
      if (!record || !health) {
        process.stdout.write(
          `local model server: not running${existsSync(localPoolFile()) ? ` (pool file ${localPoolFile()} is left from an earlier run)` : ''}\n`,
        );
        return;
      }
      const lines = [`local model server: running at ${record.baseUrl} (pid ${record.pid}, since ${record.startedAt})`];
      for (const m of health.models) {
        lines.push(
          `  ${m.id.padEnd(14)} requests ${m.requests}, completed ${m.completed}, aborted ${m.aborted}, queued ${m.queued}, ${m.completionTokens} tokens generated`,
        );
      }
      lines.push(`pool file: ${localPoolFile()}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
