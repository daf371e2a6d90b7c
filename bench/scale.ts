/**
 * Scale benchmark (issue #11): one campaign of simulated runs (time factor 0, so every second spent
 * is orchestration) with 1, 2 and 4 worker processes against one dev server. Records runs/s,
 * per-run orchestration time (a child workflow's start → close divided by its runs: 16 per child
 * at time factor 0) p50/p99, the workers' RSS at a quarter of the runs (5,000 of 20,000) and at the
 * end, and the dev server's database bytes per run. Results: bench/results/scale.json, with the
 * machine's load (it is shared; absolute figures move with it).
 *
 *   SCALE_RUNS=20000 SCALE_WORKERS=1,2,4 node --import tsx bench/scale.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-scale-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { Client, Connection } from '@temporalio/client';
import { CampaignSpecSchema, RUNS_PER_BATCH, type CampaignSpec } from '../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { startOrReuseDevServer } from '../infra/dev-server';
import { DEFAULT_DATASETS_DIR } from '../activities/datasets';
import type { CampaignProgress, CampaignSummary } from '../workflows/campaign';
import { PROJECT_ROOT } from '../infra/paths';
import { devServerDbBytes, rssBytes } from './measure';

const RUNS = Number(process.env.SCALE_RUNS ?? 20_000);
const WORKERS = (process.env.SCALE_WORKERS ?? '1,2,4').split(',').map(Number);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 64);

const METHODS = ['single:gpt-4o-mini', 'single:gpt-4.1-nano', 'single:llama-3.1-8b', 'single:gpt-4.1-mini'];
const BUDGETS = [0.0003, 0.001, 0.003, 0.01, 0.03];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
}

function windowedGrowth(samples: { done: number; bytes: number }[]): { quarterWindowMedian: number | null; endWindowMedian: number | null; windowGrowthPct: number | null } {
  const med = (lo: number, hi: number): number | null => {
    const xs = samples.filter((x) => x.done >= lo && x.done <= hi).map((x) => x.bytes);
    return xs.length ? quantile(xs, 0.5) : null;
  };
  const a = med(0.2, 0.3);
  const b = med(0.9, 1);
  return {
    quarterWindowMedian: a !== null ? Math.round(a / 2 ** 20) : null,
    endWindowMedian: b !== null ? Math.round(b / 2 ** 20) : null,
    windowGrowthPct: a && b ? Number(((100 * (b - a)) / a).toFixed(1)) : null,
  };
}

function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').trim();
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/agentbalance.cjs'), 'worker', '--no-metrics', '--llm-concurrency', '64'], {
    env: { ...process.env, AGENTBALANCE_STATE_DIR: STATE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/worker|polling|ready|listening/i.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out.slice(-300)}`)));
    setTimeout(() => resolve(child), 20_000);
  });
}

async function availableQueries(): Promise<{ benchmark: CampaignSpec['benchmark']; limit: number }> {
  const perQuery = METHODS.length * BUDGETS.length;
  const limit = Math.ceil(RUNS / perQuery);
  // GSM8K (all splits) holds enough queries for 20,000 runs; the built-in sample only 1,000 runs' worth.
  return { benchmark: fs.existsSync(path.join(DEFAULT_DATASETS_DIR, 'gsm8k')) ? 'gsm8k' : 'sample-math', limit };
}

async function main(): Promise<void> {
  const server = await startOrReuseDevServer({ log: () => undefined });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const { benchmark, limit } = await availableQueries();
  const results: unknown[] = [];
  const started = { loadavg: loadavg(), at: new Date().toISOString() };
  try {
    for (const w of WORKERS) {
      const workers = await Promise.all(Array.from({ length: w }, () => startWorker()));
      const spec = CampaignSpecSchema.parse({
        name: `scale-${w}`,
        benchmark,
        limit,
        split: 'all',
        methods: METHODS,
        costBudgets: BUDGETS,
        concurrency: CONCURRENCY,
        ...(process.env.SCALE_RUNS_PER_CHILD ? { runsPerChild: Number(process.env.SCALE_RUNS_PER_CHILD) } : {}),
        seed: `scale-${w}`,
      });
      const campaignId = `scale-${w}-${Date.now().toString(36)}`;
      const db0 = devServerDbBytes(STATE);
      const handle = await client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: campaignId, args: [{ campaignId, spec }] });
      let rssQuarter: number | undefined;
      // RSS every 2 s with the runs done: one sample moves with garbage collection, a window's median less.
      const rssSamples: { done: number; bytes: number }[] = [];
      let firstDoneAt: number | undefined;
      let doneAtFirst = 0;
      const loads: string[] = [];
      const t0 = performance.now();
      const timer = setInterval(() => {
        void handle
          .query<CampaignProgress>('progress')
          .then((p) => {
            if (firstDoneAt === undefined && p.done > 0) {
              firstDoneAt = performance.now();
              doneAtFirst = p.done;
            }
            if (rssQuarter === undefined && p.total > 0 && p.done >= p.total / 4) rssQuarter = workers.reduce((s, c) => s + rssBytes(c.pid!), 0);
            if (p.total > 0) rssSamples.push({ done: p.done / p.total, bytes: workers.reduce((s, c) => s + rssBytes(c.pid!), 0) });
            if (loads.length < 1000) loads.push(loadavg().split(' ')[0]!);
            process.stderr.write(`\rworkers=${w} ${p.done}/${p.total} runs (${p.failed} failed)   `);
          })
          .catch(() => undefined);
      }, 2000);
      const summary = (await handle.result()) as CampaignSummary;
      const wallS = (performance.now() - t0) / 1000;
      clearInterval(timer);
      const rssEnd = workers.reduce((s, c) => s + rssBytes(c.pid!), 0);
      // Per-run orchestration time: a child's start → close over its runs (time factor 0: no modelled waiting).
      const overheads: number[] = [];
      for await (const e of client.workflow.list({ query: `(WorkflowType = 'campaignBatch' OR WorkflowType = 'campaignRun') AND ExecutionStatus = 'Completed'` })) {
        if (!e.workflowId.startsWith(`${campaignId}.`) || !e.closeTime) continue;
        const runs = e.type === 'campaignBatch' ? spec.runsPerChild ?? RUNS_PER_BATCH : 1;
        overheads.push((e.closeTime.getTime() - e.startTime.getTime()) / 1000 / runs);
        if (overheads.length >= 3000) break;
      }
      const db1 = devServerDbBytes(STATE);
      const steadyS = firstDoneAt !== undefined ? (performance.now() - firstDoneAt) / 1000 : wallS;
      const row = {
        workers: w,
        runs: summary.done,
        failed: summary.failed,
        wallS: Number(wallS.toFixed(1)),
        runsPerSecond: Number((summary.done / wallS).toFixed(2)),
        steadyRunsPerSecond: Number(((summary.done - doneAtFirst) / steadyS).toFixed(2)),
        overheadS: { p50: quantile(overheads, 0.5), p99: quantile(overheads, 0.99), sampled: overheads.length },
        workerRssMiB: {
          quarterRuns: Math.round(summary.done / 4),
          atQuarter: rssQuarter !== undefined ? Math.round(rssQuarter / 2 ** 20) : null,
          atEnd: Math.round(rssEnd / 2 ** 20),
          growthPct: rssQuarter ? Number(((100 * (rssEnd - rssQuarter)) / rssQuarter).toFixed(1)) : null,
          // Medians of the samples between 20 % and 30 % of the runs and over the last 10 %.
          ...windowedGrowth(rssSamples),
        },
        serverDbBytesPerRun: Math.round((db1 - db0) / Math.max(1, summary.done)),
        loadavg1mDuring: { min: Math.min(...loads.map(Number)), max: Math.max(...loads.map(Number)) },
      };
      process.stderr.write('\n');
      console.log(JSON.stringify(row));
      results.push(row);
      for (const c of workers) c.kill('SIGTERM');
      await Promise.all(workers.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    }
  } finally {
    await connection.close();
    await server.stop();
  }
  const out = {
    note:
      'Simulated pool, time factor 0: every second is orchestration (Temporal + workers + results store). ' +
      'The machine (2 cores) is shared with other engineers running tests: compare ratios within one run, and read the load figures.',
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    loadavgAtStart: started.loadavg,
    loadavgAtEnd: loadavg(),
    startedAt: started.at,
    campaign: { benchmark, queries: limit, methods: METHODS, costBudgets: BUDGETS, concurrency: CONCURRENCY, runsTarget: RUNS },
    results,
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', process.env.SCALE_OUT ?? 'scale.json'), `${JSON.stringify(out, null, 2)}\n`);
  fs.rmSync(STATE, { recursive: true, force: true });
  console.log(`bench/results/${process.env.SCALE_OUT ?? 'scale.json'} written`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
