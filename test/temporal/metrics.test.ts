import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The results store and reports go to a temp state folder (read when first used).
const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-metrics-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { CampaignSpecSchema } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import type { AgentTrace, RunMasInput } from '../../core/mas';
import { BUILTIN_POOLS } from '../../core/pool-file';
import { resultsStore } from '../../activities/campaign';
import type { RunRow } from '../../activities/results-store';
import { DEFAULT_WORKER_CONFIG, startWorkers, workflowBundle, type RunningWorkers } from '../../workers/worker';
import { startMetricsServer, type MetricsServer } from '../../workers/metrics-server';
import { installRuntime } from '../../workers/runtime';
import type { CampaignArgs, CampaignProgress, CampaignSummary } from '../../workflows/campaign';
import { OBSERVE_SINKS_PATCH } from '../../workflows/run-mas';
import { TEMPORAL_SDK_METRICS } from '../../infra/grafana/dashboards/temporal-sdk-metrics';
import { startTestTemporal, testNamespace, uid } from '../support/temporal';
import { until } from '../support/wait';
import { freePort } from '../../infra/net';

let env: TestWorkflowEnvironment;
let workers: RunningWorkers | undefined;
let metrics: MetricsServer | undefined;
let sdkMetricsUrl: string;

before(async () => {
  // Temporal's own SDK metrics on a port of their own, to check the dashboard's SDK metric names.
  const sdkPort = await freePort();
  installRuntime({ logLevel: 'ERROR', sdkMetricsPort: sdkPort });
  sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
  env = await startTestTemporal();
  // The real simulated provider (no scripted override), as `agentbalance worker` runs it.
  workers = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) },
    env.nativeConnection,
  );
  metrics = await startMetricsServer({ port: 0 });
});

after(async () => {
  await workers?.shutdown();
  await metrics?.close();
  await env?.teardown();
  rmSync(STATE, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (what the endpoint serves). */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    assert.ok(m, `unparsable line ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(url = metrics!.url): Promise<{ text: string; samples: Sample[]; types: Map<string, string> }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  if (url === metrics!.url) assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, ...parseExposition(text) };
}

const total = (s: Sample[], name: string, where: (l: Record<string, string>) => boolean = () => true): number =>
  s.filter((x) => x.name === name && where(x.labels)).reduce((a, x) => a + x.value, 0);

/** A completed model call (skipped calls never reached a provider, so they used no tokens). */
const called = (a: AgentTrace): boolean => !a.status.startsWith('skipped');

interface Totals {
  runs: number;
  cost: number;
  tokens: number;
  deadlineHits: number;
  budgetExhausted: number;
}

function storeTotals(rows: RunRow[]): Totals {
  return {
    runs: rows.length,
    cost: rows.reduce((s, r) => s + r.costUsd, 0),
    tokens: rows.reduce((s, r) => s + r.agents.filter(called).reduce((t, a) => t + a.inputTokens + a.outputTokens, 0), 0),
    deadlineHits: rows.filter((r) => r.deadlineHit).length,
    budgetExhausted: rows.filter((r) => r.budgetExhausted).length,
  };
}

function scrapedTotals(s: Sample[], base?: Totals): Totals {
  const t = {
    runs: total(s, 'agentbalance_run_cost_usd_count'),
    cost: total(s, 'agentbalance_cost_usd_total'),
    tokens: total(s, 'gen_ai_client_token_usage_sum'),
    deadlineHits: total(s, 'agentbalance_budget_events_total', (l) => l.kind === 'deadline_hit'),
    budgetExhausted: total(s, 'agentbalance_budget_events_total', (l) => l.kind === 'budget_exhausted'),
  };
  if (!base) return t;
  return {
    runs: t.runs - base.runs,
    cost: t.cost - base.cost,
    tokens: t.tokens - base.tokens,
    deadlineHits: t.deadlineHits - base.deadlineHits,
    budgetExhausted: t.budgetExhausted - base.budgetExhausted,
  };
}

function assertSame(scraped: Totals, stored: Totals, when: string): void {
  assert.ok(Math.abs(scraped.cost - stored.cost) <= 1e-9, `${when}: cost counter ${scraped.cost} vs store ${stored.cost}`);
  assert.equal(scraped.tokens, stored.tokens, `${when}: token usage`);
  assert.equal(scraped.runs, stored.runs, `${when}: runs observed`);
  assert.equal(scraped.deadlineHits, stored.deadlineHits, `${when}: deadline_hit events`);
  assert.equal(scraped.budgetExhausted, stored.budgetExhausted, `${when}: budget_exhausted events`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('product metrics on /metrics, against a real Temporal dev server', () => {
  const campaignId = uid('metrics');
  let rows: RunRow[] = [];

  test('a campaign: scraped counters equal the results store during the campaign and after it', async () => {
    const baseSamples = (await scrape()).samples;
    const base = scrapedTotals(baseSamples);
    const spec = CampaignSpecSchema.parse({
      benchmark: 'sample-math',
      limit: 3,
      methods: ['chain', 'single:gpt-4o-mini'],
      costBudgets: [0.001],
      concurrency: 1,
      // Two runs per child workflow: the campaign can be paused between children, mid-campaign.
      runsPerChild: 2,
      seed: 'metrics',
      // Injected 429s: failed attempts are retried by the workflow (and show in the SDK metrics).
      simulation: { timeFactor: 0, rate429: 0.4, rate5xx: 0, seed: 'metrics' },
    });
    const args: CampaignArgs = { campaignId, spec };
    const handle = await env.client.workflow.start('campaign', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: campaignId,
      args: [args],
    });

    // Scrape while runs go on; pause once one run is done and check the books while it is held.
    let scrapesWhileRunning = 0;
    let lastCost = 0;
    for (;;) {
      const { samples } = await scrape();
      const cost = scrapedTotals(samples, base).cost;
      assert.ok(cost >= lastCost - 1e-15, 'the cost counter never decreases');
      lastCost = cost;
      scrapesWhileRunning++;
      const p = await handle.query<CampaignProgress>('progress');
      if (p.done >= 1) break;
      await sleep(20); // scrape again (each loop is a scrape while runs go on)
    }
    await handle.signal('pause');
    const held = await until('the paused campaign to have no run in flight', async () => {
      const p = await handle.query<CampaignProgress>('progress');
      return p.paused && p.running === 0 ? p : undefined;
    });
    const during = await scrape();
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'scraped while the campaign runs');
    assert.ok(held.done < held.total, `paused mid-campaign (${held.done}/${held.total})`);
    const storedDuring = await (await resultsStore()).getRuns(campaignId);
    assert.equal(storedDuring.length, held.done);
    assertSame(scrapedTotals(during.samples, base), storeTotals(storedDuring), 'mid-campaign');
    assert.equal(total(during.samples, 'agentbalance_runs_in_flight'), 0, 'no run in flight while paused');

    await handle.signal('resume');
    const summary = (await handle.result()) as CampaignSummary;
    assert.equal(summary.done, 6);
    const afterCampaign = await scrape();
    rows = await (await resultsStore()).getRuns(campaignId);
    assert.equal(rows.length, 6);
    const stored = storeTotals(rows);
    assert.ok(stored.cost > 0 && stored.tokens > 0);
    assertSame(scrapedTotals(afterCampaign.samples, base), stored, 'after the campaign');
    assert.ok(scrapesWhileRunning >= 1);
    assert.equal(total(afterCampaign.samples, 'agentbalance_runs_in_flight'), 0);

    const s = afterCampaign.samples;
    // Cost is labelled by method (planRun fills RunMasInput.method) and marked simulated.
    const costSeries = s.filter((x) => x.name === 'agentbalance_cost_usd_total' && x.value > 0);
    assert.deepEqual([...new Set(costSeries.map((x) => x.labels.method))].sort(), ['chain', 'single:gpt-4o-mini']);
    for (const x of costSeries) {
      assert.equal(x.labels.provider, 'simulated');
      assert.equal(x.labels.simulated, 'true');
    }
    for (const method of ['chain', 'single:gpt-4o-mini']) {
      const byMethod = rows.filter((r) => r.method === method).reduce((a, r) => a + r.costUsd, 0);
      assert.ok(Math.abs(total(s, 'agentbalance_cost_usd_total', (l) => l.method === method) - byMethod) <= 1e-9, method);
    }
    const tokenSeries = s.filter((x) => x.name === 'gen_ai_client_token_usage_count' && x.value > 0);
    assert.ok(tokenSeries.length > 0);
    for (const x of tokenSeries) {
      assert.equal(x.labels.gen_ai_operation_name, 'chat');
      assert.equal(x.labels.gen_ai_provider_name, 'simulated');
      assert.ok(x.labels.gen_ai_token_type === 'input' || x.labels.gen_ai_token_type === 'output');
    }
    // One duration per completed call.
    const completedCalls = rows.reduce((n, r) => n + r.agents.filter((a) => called(a) && a.latencyS > 0).length, 0);
    const durations = (x: Sample[]) => total(x, 'gen_ai_client_operation_duration_seconds_count');
    assert.equal(durations(s) - durations(baseSamples), completedCalls);
    const latencies = (x: Sample[]) => total(x, 'agentbalance_run_latency_seconds_count');
    assert.equal(latencies(s) - latencies(baseSamples), 6);

    // Campaign gauges, from finalizeCampaign's report.
    for (const method of ['chain', 'single:gpt-4o-mini']) {
      const mine = rows.filter((r) => r.method === method);
      const labels = (l: Record<string, string>) =>
        l.campaign === campaignId && l.method === method && l.benchmark === 'sample-math' && l.budget_kind === 'cost';
      const acc = s.find((x) => x.name === 'agentbalance_campaign_accuracy' && labels(x.labels));
      assert.ok(acc, `accuracy gauge for ${method}`);
      assert.ok(Math.abs(acc.value - mine.filter((r) => r.correct).length / mine.length) < 1e-12);
      const auc = s.find((x) => x.name === 'agentbalance_campaign_auc' && labels(x.labels));
      assert.ok(auc && Number.isFinite(auc.value), `AUC gauge for ${method}`);
    }

    // Labels never carry a query, task or workflow id; the campaign id only on the campaign gauges.
    const taskIds = new Set(rows.map((r) => r.taskId));
    for (const x of s) {
      for (const v of Object.values(x.labels)) {
        assert.ok(!taskIds.has(v), `${x.name} carries a task id`);
        if (!x.name.startsWith('agentbalance_campaign_'))
          assert.ok(!v.includes(campaignId), `${x.name} carries the campaign/workflow id`);
      }
    }
  });

  test('replaying finished runs (Worker.runReplayHistory) books nothing again', async () => {
    assert.ok(rows.length > 0, 'the campaign test ran first');
    const product = (text: string) =>
      text
        .split('\n')
        .filter((l) => /^(agentbalance_|gen_ai_)/.test(l))
        .join('\n');
    const before = product((await scrape()).text);
    const bundle = await workflowBundle();
    let observeMarkers = 0;
    let children = 0;
    let booked = 0;
    // The campaign's children (batches of runs, or one run each) run runMas inline. Their runs book
    // through workflow sinks (#17), which leave no marker and are not called during a replay.
    for await (const w of env.client.workflow.list({ query: `WorkflowType = 'campaignBatch' OR WorkflowType = 'campaignRun'` })) {
      if (!w.workflowId.startsWith(`${campaignId}.`)) continue;
      children++;
      const history = await env.client.workflow.getHandle(w.workflowId).fetchHistory();
      for (const e of history.events ?? []) {
        const m = e.markerRecordedEventAttributes;
        const raw = m?.details?.data?.payloads?.[0]?.data ?? m?.details?.['patch-data']?.payloads?.[0]?.data;
        const text = raw ? Buffer.from(raw).toString('utf8') : '';
        if (m?.markerName === 'core_local_activity' && /"(observeRun|runStarted)"/.test(text)) observeMarkers++;
        if (m?.markerName === 'core_patch' && text.includes(OBSERVE_SINKS_PATCH)) booked++;
      }
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'metrics-replay' }, history);
    }
    assert.ok(children > 0);
    assert.equal(booked, children, 'every child booked its runs through the sinks');
    assert.equal(observeMarkers, 0, 'no booking by local activity');
    assert.equal(product((await scrape()).text), before, 'the product counters did not move');
  });

  test("Temporal's SDK metrics the dashboard uses exist on the SDK endpoint", async () => {
    // Calls at time factor 0 are local activities (#17): one real-time run (time factor 0.001) whose
    // calls all get a 429 fails regular activity attempts, as a real provider's failures would.
    const b = BUILTIN_POOLS['sim-14']!.backbones.find((x) => x.id === 'gpt-4o-mini')!;
    const input: RunMasInput = {
      query: 'What is 6 * 7?',
      spec: { agents: [{ id: 'd', role: 'decider', backbone: b.id }], edges: [], decision: 'd' },
      backbones: [b],
      rolePrompts: { decider: 'You decide.' },
      budgets: {},
      simulation: { timeFactor: 0.001, rate429: 1, rate5xx: 0, seed: 'sdk-metrics' },
    };
    await env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: uid('sdk-failures'), args: [input] });
    const { types } = await scrape(sdkMetricsUrl);
    for (const [name, type] of Object.entries(TEMPORAL_SDK_METRICS)) {
      assert.equal(types.get(name), type, `${name} (${type}) on the SDK metrics endpoint`);
    }
  });
});
