/**
 * The local model server process (started detached by `agentbalance local up`; runnable by hand:
 * `node --import tsx infra/model-server/main.ts --models smollm2-135m`). It loads node-llama-cpp
 * and the models from the state folder, measures each model once, serves, and records its pid and
 * port in `<state>/engine/server.json`, which it removes when it stops.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_MODELS, parseGgufSpec, runtimeEntry, servedFromCatalog, serverRecordFile, type ServedModel } from './catalog';
import { loadEngine, type LoadedModel } from './engine';
import { startModelServer } from './server';
import { readServerRecord, ServerRecordSchema, type Calibration } from './record';

const OptionsSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  models: z.string(),
  gguf: z.array(z.string()),
  threads: z.coerce.number().int().positive(),
  context: z.coerce.number().int().min(256),
  maxOutput: z.coerce.number().int().positive(),
  record: z.string().min(1),
});

const SHORT = 'What is 2 + 3?';
const LONG = `Read the passage and answer the question.\n\n${'The river rises in the hills, runs past the old mill, turns east at the bridge and reaches the sea after forty miles. '.repeat(8)}\n\nHow long is the river?`;

/**
 * One short and one long prompt, 16 tokens each, after a warm-up: time to first token for two
 * prompt lengths gives the prefill rate and the fixed overhead, the rest gives the decode rate.
 */
async function calibrate(m: LoadedModel): Promise<Calibration> {
  const signal = new AbortController().signal;
  const run = (text: string) =>
    m.generate({ messages: [{ role: 'user', content: text }], maxTokens: 16, temperature: 0, stop: [], signal });
  await run(SHORT);
  const a = await run(SHORT);
  const b = await run(LONG);
  const prefillTps =
    b.promptTokens > a.promptTokens && b.ttftS > a.ttftS
      ? (b.promptTokens - a.promptTokens) / (b.ttftS - a.ttftS)
      : b.promptTokens / b.ttftS;
  const decodeS = [a, b]
    .map((r) => (r.completionTokens > 1 ? (r.totalS - r.ttftS) / (r.completionTokens - 1) : NaN))
    .filter(Number.isFinite);
  const decodeTps = decodeS.length > 0 ? decodeS.length / decodeS.reduce((x, y) => x + y, 0) : 1;
  return {
    ttftS: Math.max(0.005, a.ttftS - a.promptTokens / prefillTps),
    prefillTps,
    decodeTps,
    measuredAt: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const o = OptionsSchema.parse(
    new Command()
      .option('--host <host>', 'interface to bind', '127.0.0.1')
      .option('--port <port>', 'port (0: any free port)', '0')
      .option('--models <ids>', 'comma-separated model ids', LOCAL_MODELS.map((m) => m.id).join(','))
      .option('--threads <n>', 'CPU threads per model', '1')
      .option('--context <n>', 'context size per model, tokens', '2048')
      .option('--max-output <n>', 'cap on every generation, tokens', '256')
      .option(
        '--gguf <id=path[:chat|:completion]>',
        'also serve this GGUF file (repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--record <file>', 'where to record pid and port', serverRecordFile())
      .parse(process.argv)
      .opts(),
  );
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const wanted = o.models
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const specs: ServedModel[] = wanted.map((id) => {
    const m = LOCAL_MODELS.find((x) => x.id === id);
    if (!m) throw new Error(`--models: unknown model ${id} (known: ${LOCAL_MODELS.map((x) => x.id).join(', ')})`);
    return servedFromCatalog(m);
  });
  for (const g of o.gguf) {
    const m = parseGgufSpec(g);
    if (!m) throw new Error(`--gguf ${g}: expected ID=PATH[:chat|:completion]`);
    specs.push(m);
  }
  if (specs.length === 0) throw new Error('no models to serve (--models, --gguf)');
  for (const m of specs)
    if (!existsSync(m.path)) throw new Error(`${m.path} is missing: run \`agentbalance local up\` to install it`);
  if (!existsSync(runtimeEntry()))
    throw new Error(`node-llama-cpp is not installed (${runtimeEntry()}): run \`agentbalance local up\``);
  const engine = await loadEngine(runtimeEntry(), o.threads * specs.length);
  const models: LoadedModel[] = [];
  for (const m of specs) {
    models.push(await engine.load({ id: m.id, path: m.path, prompt: m.prompt, contextSize: o.context, threads: o.threads }));
    log(`loaded ${m.id} (${m.title}, ${m.prompt} prompts, ${o.threads} thread(s))`);
  }
  const calibration: Record<string, Calibration> = {};
  for (const m of models) {
    calibration[m.id] = await calibrate(m);
    const c = calibration[m.id]!;
    log(
      `measured ${m.id}: ttft ${c.ttftS.toFixed(3)} s, prefill ${c.prefillTps.toFixed(0)} tok/s, decode ${c.decodeTps.toFixed(1)} tok/s`,
    );
  }
  const server = await startModelServer(models, {
    host: o.host,
    port: o.port,
    maxOutputTokens: o.maxOutput,
    log,
    health: () => ({ calibration, maxOutputTokens: o.maxOutput }),
  });
  const record = ServerRecordSchema.parse({
    pid: process.pid,
    host: o.host,
    port: server.port,
    baseUrl: server.baseUrl,
    threads: o.threads,
    maxOutputTokens: o.maxOutput,
    contextSize: Math.min(...models.map((m) => m.contextSize)),
    models: models.map((m) => m.id),
    modelInfo: specs.map(({ id, title, prompt, note }) => ({ id, title, prompt, note })),
    calibration,
    startedAt: new Date().toISOString(),
  });
  writeFileSync(o.record, `${JSON.stringify(record, null, 2)}\n`);
  log(`listening on ${server.baseUrl}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${signal})`);
    // Freeing native memory can stall on a busy machine; the process ends regardless.
    setTimeout(() => process.exit(0), 3000).unref();
    // Only our own record: a newer server of the same folder may have replaced it.
    if (readServerRecord(o.record)?.pid === process.pid) rmSync(o.record, { force: true });
    void server
      .close()
      .then(async () => {
        for (const m of models) await m.dispose();
        await engine.dispose();
      })
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`model server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
