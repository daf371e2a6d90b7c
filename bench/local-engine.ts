// The local models' speed on this machine (node-llama-cpp, CPU): time to first token and decode
// tokens/s per model, with 1 and 2 threads per model, one generation at a time. Writes
// bench/results/local-engine.json with the load average, since the machine is shared.
// Skips (exit 0) when the models are not installed (`agentbalance local up` installs them).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_MODELS, modelPath, runtimeEntry } from '../infra/model-server/catalog';
import { loadEngine, type GenerateResult } from '../infra/model-server/engine';

const TOKENS = 64;
const RUNS = 3;
/** Stop repeating a configuration after this long (2 threads can be very slow on a busy machine). */
const ROW_BUDGET_S = 90;
const PROMPT = 'Explain in a few sentences why the sky is blue.';

const LOAD_BEFORE = os.loadavg();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const missing = LOCAL_MODELS.filter((m) => !existsSync(modelPath(m)));
  if (!existsSync(runtimeEntry()) || missing.length > 0) {
    console.log(
      'bench/local-engine: skipped: the local models are not installed (run `agentbalance local up` or AGENTBALANCE_INSTALL_MODELS=1 bash infra/bootstrap.sh)',
    );
    return;
  }
  const engine = await loadEngine(runtimeEntry(), 2);
  const rows = [];
  for (const threads of [1, 2]) {
    for (const m of LOCAL_MODELS) {
      const model = await engine.load({ id: m.id, path: modelPath(m), prompt: m.prompt, contextSize: 1024, threads });
      const signal = new AbortController().signal;
      const gen = (): Promise<GenerateResult> =>
        // No stop strings and an instruction to go on: every run decodes the full TOKENS.
        model.generate({ messages: [{ role: 'user', content: PROMPT }], maxTokens: TOKENS, temperature: 0, stop: [], signal });
      const rowStart = performance.now();
      await gen();
      const runs: GenerateResult[] = [];
      for (let i = 0; i < RUNS; i++) {
        runs.push(await gen());
        if ((performance.now() - rowStart) / 1000 > ROW_BUDGET_S) break;
      }
      const decode = runs.filter((r) => r.completionTokens > 1).map((r) => (r.completionTokens - 1) / (r.totalS - r.ttftS));
      const row = {
        model: m.id,
        threads,
        promptTokens: runs[0]!.promptTokens,
        completionTokens: runs.map((r) => r.completionTokens),
        ttftS: median(runs.map((r) => r.ttftS)),
        decodeTps: median(decode),
      };
      console.log(
        `${m.id} threads=${threads}: ttft ${row.ttftS.toFixed(3)} s, decode ${row.decodeTps.toFixed(1)} tok/s (${row.completionTokens.join('/')} tokens)`,
      );
      rows.push(row);
      write(rows);
      await model.dispose();
    }
  }
  await engine.dispose();
  write(rows);
  console.log('written: bench/results/local-engine.json');
}

function write(rows: unknown[]): void {
  const out = {
    benchmark: 'local-engine',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAvgBefore: LOAD_BEFORE, loadAvgNow: os.loadavg() },
    note: "One generation at a time per model, median of up to 3 after a warm-up (fewer when a configuration passes 90 s); the machine is shared with other engineers' test runs, so absolute numbers vary with its load (see loadAvg).",
    tokens: TOKENS,
    rows,
  };
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'local-engine.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
