/**
 * The long unattended campaign of issue #11: GSM8K, 500 test queries, 24 methods (every baseline,
 * every single backbone, agentbalance and its plug-ins), 5 cost and 4 latency budgets: 108,000
 * simulated runs (time factor 0), run the way a user spreads a campaign over workers: one Temporal
 * server, N `agentbalance worker` processes (LONG_WORKERS, default 2), and `agentbalance campaign`
 * as a client with TEMPORAL_ADDRESS set. Then checks that every run is stored exactly once and
 * times `agentbalance report` in a fresh process. Results: bench/results/long-campaign.json.
 *
 *   node --import tsx bench/long-campaign.ts            # LONG_LIMIT=500 LONG_WORKERS=2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = process.env.LONG_STATE ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ab-long-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import Database from 'better-sqlite3';
import { startOrReuseDevServer } from '../infra/dev-server';
import { PROJECT_ROOT } from '../infra/paths';
import { devServerDbBytes, rssBytes, timeReport } from './measure';

const CLI = path.join(PROJECT_ROOT, 'bin/agentbalance.cjs');
const LIMIT = Number(process.env.LONG_LIMIT ?? 500);
const WORKERS = Number(process.env.LONG_WORKERS ?? 2);
const METHODS = 'agentbalance,single:*,cot-sc,cascade,bamas,gdesigner,agentprune,agentdropout,plugin-gdesigner,plugin-agentprune,plugin-agentdropout';
const COST = '0.00005,0.0002,0.001,0.003,0.01';
const LATENCY = '1,3,10,30';

const loadavg = (): string => fs.readFileSync('/proc/loadavg', 'utf8').trim();
async function main(): Promise<void> {
  const server = await startOrReuseDevServer({ log: () => undefined });
  const env = { ...process.env, AGENTBALANCE_STATE_DIR: STATE, TEMPORAL_ADDRESS: server.address };
  const workers: ChildProcess[] = Array.from({ length: WORKERS }, () =>
    spawn(process.execPath, [CLI, 'worker', '--no-metrics', '--llm-concurrency', '64'], { env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const loads: number[] = [];
  const rss: { atS: number; workersMiB: number[] }[] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    loads.push(Number(loadavg().split(' ')[0]));
    rss.push({ atS: Math.round((performance.now() - t0) / 1000), workersMiB: workers.map((w) => Math.round(rssBytes(w.pid!) / 2 ** 20)) });
  }, 30_000);
  const args = ['campaign', '--benchmark', 'gsm8k', '--limit', String(LIMIT), '--methods', METHODS, '--cost-budgets', COST, '--latency-budgets', LATENCY, '--concurrency', '64', '--seed', 'long', '--json'];
  const started = { at: new Date().toISOString(), loadavg: loadavg() };
  const campaign = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  campaign.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => campaign.once('exit', r));
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (code !== 0) throw new Error(`campaign exited with ${code}`);
  const summary = JSON.parse(out) as { campaignId: string };
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));

  // Every run stored exactly once (the primary key makes duplicates impossible; count the keys).
  const db = new Database(path.join(STATE, 'results.sqlite'), { readonly: true });
  const row = db
    .prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT run_key_id) AS keys, SUM(error_class IS NOT NULL) AS failed, SUM(correct = 1) AS correct FROM ab_runs WHERE campaign_id = ?')
    .get(summary.campaignId) as { n: number; keys: number; failed: number; correct: number };
  db.close();
  const serverDb = devServerDbBytes(STATE);
  await server.stop();

  const report = timeReport(STATE, summary.campaignId);
  const result = {
    note: 'Simulated pool (sim-14), time factor 0: SIMULATED results, not real LLM results. The machine (2 cores) is shared; read the load figures.',
    command: `agentbalance ${args.join(' ')}`,
    workers: WORKERS,
    campaignId: summary.campaignId,
    startedAt: started.at,
    loadavgAtStart: started.loadavg,
    loadavg1m: { min: Math.min(...loads), max: Math.max(...loads), mean: Number((loads.reduce((s, x) => s + x, 0) / Math.max(1, loads.length)).toFixed(1)) },
    wallS: Math.round(wallS),
    stored: row,
    runsPerSecond: Number((row.n / wallS).toFixed(1)),
    serverDbBytesPerRun: Math.round(serverDb / row.n),
    workerRssMiB: rss.filter((_, i) => i % 10 === 0 || i === rss.length - 1),
    report,
  };
  console.log(JSON.stringify(result, null, 2));
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'long-campaign.json'), `${JSON.stringify(result, null, 2)}\n`);
  const reportDir = path.join(STATE, 'reports', summary.campaignId);
  if (fs.existsSync(reportDir)) fs.cpSync(reportDir, path.join(__dirname, 'results', 'long-campaign'), { recursive: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
