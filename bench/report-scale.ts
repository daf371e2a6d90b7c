/**
 * Report at scale (issue #11): fills a results store with a synthetic campaign of N runs (default
 * 100,000: 500 queries × 22 methods × 9 budgets; outcomes drawn from a seeded generator, not from
 * any model), then times `agentbalance report` on it in a fresh process and records its peak RSS.
 * Results: bench/results/report-scale.json.
 *
 *   REPORT_RUNS=100000 node --import tsx bench/report-scale.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-report-scale-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { openResultsStore, type RunRow } from '../activities/results-store';
import { CampaignSpecSchema } from '../core/campaign/spec';
import { rngFor } from '../core/random';
import { PROJECT_ROOT } from '../infra/paths';
import { timeReport } from './measure';

const RUNS = Number(process.env.REPORT_RUNS ?? 100_000);
const METHODS = Array.from({ length: 22 }, (_, i) => `single:m${i}`);
const COST = [0.00005, 0.0002, 0.001, 0.003, 0.01];
const LATENCY = [1, 3, 10, 30];

async function main(): Promise<void> {
  const perQuery = METHODS.length * (COST.length + LATENCY.length);
  const queries = Math.ceil(RUNS / perQuery);
  const taskIds = Array.from({ length: queries }, (_, i) => `gsm8k/${i}`);
  const spec = CampaignSpecSchema.parse({ benchmark: 'gsm8k', methods: ['agentbalance'], costBudgets: COST, latencyBudgets: LATENCY, seed: 'report-scale' });
  const store = await openResultsStore({ sqlitePath: path.join(STATE, 'results.sqlite') });
  const campaignId = 'c-report-scale';
  await store.saveCampaign({
    id: campaignId,
    spec,
    methods: METHODS,
    pool: { name: 'synthetic', simulated: true, priceTableVersion: 'none' },
    taskIds,
    splitFingerprint: 'synthetic',
    codeVersion: 'bench',
    createdAt: new Date().toISOString(),
    status: 'completed',
    artifacts: {},
  });
  const rng = rngFor('report-scale');
  const rand = (): number => rng.next();
  let rows: RunRow[] = [];
  let n = 0;
  const t0 = performance.now();
  for (const taskId of taskIds) {
    for (const [mi, method] of METHODS.entries()) {
      for (const [kind, budgets] of [['cost', COST], ['latency', LATENCY]] as const) {
        for (const budget of budgets) {
          const skill = 0.5 + 0.4 * (mi / METHODS.length);
          rows.push({
            campaignId,
            runKeyId: `${method}|${kind}|${budget}|${taskId}`,
            method,
            budgetKind: kind,
            budget,
            taskId,
            correct: rand() < skill * (kind === 'cost' ? Math.min(1, 0.6 + budget * 40) : Math.min(1, 0.5 + budget / 20)),
            costUsd: rand() * (kind === 'cost' ? budget : 0.002),
            latencyS: rand() * (kind === 'latency' ? budget : 5),
            deadlineHit: false,
            budgetExhausted: false,
            simulated: true,
            agents: [{ id: 'a', role: 'solver', backbone: method, status: 'ok', inputTokens: 120, outputTokens: 300, costUsd: 0.0001, latencyS: 2, startS: 0, finishS: 2, maxTokens: 600, attempts: 1, text: 'synthetic '.repeat(40) }],
            finishedAt: new Date().toISOString(),
          });
          n++;
          if (rows.length === 2000) {
            await store.upsertRuns(rows);
            rows = [];
          }
        }
      }
    }
  }
  if (rows.length) await store.upsertRuns(rows);
  await store.close();
  const fillS = (performance.now() - t0) / 1000;
  const dbBytes = fs.statSync(path.join(STATE, 'results.sqlite')).size;
  const { seconds: reportS, peakRssMiB } = timeReport(STATE, campaignId);
  const out = {
    note: 'Synthetic campaign (seeded outcomes, no model calls): measures the report alone. The machine (2 cores) is shared; read the load.',
    loadavg: fs.readFileSync('/proc/loadavg', 'utf8').trim(),
    runs: n,
    queries,
    methods: METHODS.length,
    budgets: COST.length + LATENCY.length,
    fillS: Number(fillS.toFixed(1)),
    storeBytesPerRun: Math.round(dbBytes / n),
    reportS,
    reportPeakRssMiB: peakRssMiB,
    codeVersion: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim(),
  };
  console.log(JSON.stringify(out));
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'report-scale.json'), `${JSON.stringify(out, null, 2)}\n`);
  if (!process.env.REPORT_KEEP) fs.rmSync(STATE, { recursive: true, force: true });
  else console.log(`kept ${STATE}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
