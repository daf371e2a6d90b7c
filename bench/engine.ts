/**
 * Engine benchmarks on a real Temporal dev server (one command: `npm run bench`):
 *  - deadline margin: how long after its latency budget a run's result comes back, in real time
 *    (time factor 1), with an agent that would need far longer than the budget;
 *  - throughput: runMas per second through a campaign on the simulated pool (time factor 0);
 *  - memory: the worker process's peak RSS.
 * Results go to bench/results/engine.json. Ratios, not absolutes, are what to compare across runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-bench-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { makeCallAgent } from '../activities/call-agent';
import { getProvider } from '../activities/providers';
import { CampaignSpecSchema } from '../core/campaign/spec';
import type { RunMasInput, RunMasResult } from '../core/mas';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../workers/worker';
import type { CampaignSummary } from '../workflows/campaign';
import { isScripted, ScriptedProvider, slowAndQuick } from '../test/support/scripted-provider';
import { startTestTemporal } from '../test/support/temporal';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function main(): Promise<void> {
  const env = await startTestTemporal();
  const scripted = new ScriptedProvider();
  // Scripted backbones (model "scripted:…") get the scripted provider; the rest the real registry.
  const workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: 'default' }, env.nativeConnection, {
    callAgent: makeCallAgent((b) => (isScripted(b) ? scripted : getProvider(b.provider))),
  });
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);

  // Deadline margin.
  const budgets = [1, 2, 4];
  const margins: { budgetS: number; wallS: number; marginS: number; deadlineHit: boolean }[] = [];
  const { spec, backbones } = slowAndQuick(60, 0.2);
  for (const budgetS of budgets) {
    for (let i = 0; i < 5; i++) {
      const input: RunMasInput = {
        query: 'What is 6 * 7?',
        spec,
        budgets: { maxLatencyS: budgetS },
        backbones,
        rolePrompts: { solver: 'You solve problems.', decider: 'You decide.' },
        simulation: { timeFactor: 1, rate429: 0, rate5xx: 0, seed: String(i) },
      };
      const t0 = performance.now();
      const r: RunMasResult = await env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: `bench-deadline-${budgetS}-${i}`, args: [input] });
      const wallS = (performance.now() - t0) / 1000;
      margins.push({ budgetS, wallS, marginS: wallS - budgetS, deadlineHit: r.deadlineHit });
    }
  }

  // Throughput through a campaign (simulated pool, no waiting).
  const campaignSpec = CampaignSpecSchema.parse({
    benchmark: 'sample-math',
    limit: 20,
    methods: ['chain', 'single:gpt-4o-mini', 'debate'],
    costBudgets: [0.0005, 0.005],
    latencyBudgets: [5],
    concurrency: 32,
    seed: 'bench',
  });
  const t0 = performance.now();
  const summary: CampaignSummary = await env.client.workflow.execute('campaign', {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: 'bench-campaign',
    args: [{ campaignId: 'bench-campaign', spec: campaignSpec }],
  });
  const campaignS = (performance.now() - t0) / 1000;

  clearInterval(rssTimer);
  const out = {
    machine: { cpus: os.cpus().length, node: process.version, loadavg: os.loadavg() },
    deadline: {
      note: 'wall time from start to result minus the latency budget, time factor 1 (real seconds); the slow agent would need 60 s',
      runs: margins.length,
      allDeadlineHit: margins.every((m) => m.deadlineHit),
      marginS: { p50: quantile(margins.map((m) => m.marginS), 0.5), p95: quantile(margins.map((m) => m.marginS), 0.95), max: Math.max(...margins.map((m) => m.marginS)) },
      perRun: margins,
    },
    throughput: { runs: summary.done, seconds: campaignS, runsPerSecond: summary.done / campaignS, concurrency: campaignSpec.concurrency },
    memory: { peakRssMiB: peakRss / 2 ** 20 },
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'engine.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify({ deadline: out.deadline.marginS, throughput: out.throughput, memory: out.memory }, null, 2));
  await workers.shutdown();
  await env.teardown();
  fs.rmSync(STATE, { recursive: true, force: true });
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
