/**
 * The local model server process (started detached by `agentbalance local up`; runnable by hand:
 * `node --import tsx infra/model-server/main.ts --models smollm2-135m`). It loads node-llama-cpp
 * and the models from the state folder, measures each model once, serves, and records its pid and
 * port in `<state>/engine/server.json`, which it removes when it stops.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_MODELS, modelPath, runtimeEntry, serverRecordFile } from './catalog';
import { loadEngine, type LoadedModel } from './engine';
import { startModelServer } from './server';
import { ServerRecordSchema, type Calibration } from './record';

const OptionsSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  models: z.string().min(1),
  threads: z.coerce.number().int().positive(),
  context: z.coerce.number().int().min(256),
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
  const prefillTps = b.promptTokens > a.promptTokens && b.ttftS > a.ttftS ? (b.promptTokens - a.promptTokens) / (b.ttftS - a.ttftS) : b.promptTokens / b.ttftS;
  const decodeS = [a, b].map((r) => (r.completionTokens > 1 ? (r.totalS - r.ttftS) / (r.completionTokens - 1) : NaN)).filter(Number.isFinite);
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
      .option('--record <file>', 'where to record pid and port', serverRecordFile())
      .parse(process.argv)
      .opts(),
  );
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const wanted = o.models.split(',').map((s) => s.trim());
  const specs = wanted.map((id) => {
    const m = LOCAL_MODELS.find((x) => x.id === id);
    if (!m) throw new Error(`--models: unknown model ${id} (known: ${LOCAL_MODELS.map((x) => x.id).join(', ')})`);
    if (!existsSync(modelPath(m))) throw new Error(`${modelPath(m)} is missing: run \`agentbalance local up\` to install it`);
    return m;
  });
  if (!existsSync(runtimeEntry())) throw new Error(`node-llama-cpp is not installed (${runtimeEntry()}): run \`agentbalance local up\``);
  const engine = await loadEngine(runtimeEntry(), o.threads * specs.length);
  const models: LoadedModel[] = [];
  for (const m of specs) {
    models.push(await engine.load({ id: m.id, path: modelPath(m), prompt: m.prompt, contextSize: o.context, threads: o.threads }));
    log(`loaded ${m.id} (${m.title}, ${m.prompt} prompts, ${o.threads} thread(s))`);
  }
  const calibration: Record<string, Calibration> = {};
  for (const m of models) {
    calibration[m.id] = await calibrate(m);
    const c = calibration[m.id]!;
    log(`measured ${m.id}: ttft ${c.ttftS.toFixed(3)} s, prefill ${c.prefillTps.toFixed(0)} tok/s, decode ${c.decodeTps.toFixed(1)} tok/s`);
  }
  const server = await startModelServer(models, { host: o.host, port: o.port, log, health: () => ({ calibration }) });
  const record = ServerRecordSchema.parse({
    pid: process.pid,
    host: o.host,
    port: server.port,
    baseUrl: server.baseUrl,
    threads: o.threads,
    contextSize: Math.min(...models.map((m) => m.contextSize)),
    models: models.map((m) => m.id),
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
    rmSync(o.record, { force: true });
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
