/**
 * A campaign watched by a real Prometheus: a real Temporal dev server, a worker serving the product
 * metrics and Temporal's SDK metrics on free ports, and a Prometheus (infra/prometheus/local.ts)
 * scraping both every second with the product's rule file. Used by test/temporal/prometheus.test.ts
 * and bench/dashboard.ts (`npm run dashboard:render`).
 *
 * The caller sets AGENTBALANCE_STATE_DIR (and OTEL_SEMCONV_STABILITY_OPT_IN if wanted) first.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { resultsStore } from '../../activities/campaign';
import type { RunRow } from '../../activities/results-store';
import { CampaignSpecSchema, type CampaignSpecInput } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { freePort, startPrometheus, type LocalPrometheus } from '../../infra/prometheus/local';
import { startMetricsServer, type MetricsServer } from '../../workers/metrics-server';
import { installRuntime } from '../../workers/runtime';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import type { CampaignArgs, CampaignSummary } from '../../workflows/campaign';
import { startTestTemporal, testNamespace, uid } from './temporal';

/** Scrape and rule-evaluation interval of the test Prometheus, in seconds. */
export const SCRAPE_INTERVAL_S = 1;

/**
 * A short campaign on the simulated pool (time factor 0.01) that produces every kind of data the
 * dashboard shows: two methods, a cost budget so tight runs exhaust it, a latency budget so tight
 * runs hit the deadline, injected 429s (failed activity attempts in the SDK metrics).
 */
export const OBSERVED_SPEC: CampaignSpecInput = {
  benchmark: 'sample-math',
  limit: 2,
  methods: ['chain', 'single:gpt-4o-mini'],
  costBudgets: [0.00002, 0.01],
  latencyBudgets: [0.5, 60],
  concurrency: 2,
  seed: 'prometheus',
  // A little real waiting (time factor 0.01): calls are regular activities, so the injected 429s
  // fail activity attempts in the SDK metrics (at time factor 0 calls are local activities, #17).
  simulation: { timeFactor: 0.01, rate429: 0.3, rate5xx: 0, seed: 'prometheus' },
};

export interface ObservedStack {
  env: TestWorkflowEnvironment;
  prom: LocalPrometheus;
  metrics: MetricsServer;
  sdkMetricsUrl: string;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the stack and waits until Prometheus scrapes both worker endpoints. */
export async function startObservedStack(prometheusBin: string): Promise<ObservedStack> {
  const sdkPort = await freePort();
  installRuntime({ logLevel: 'ERROR', sdkMetricsPort: sdkPort });
  const env = await startTestTemporal();
  let workers: RunningWorkers | undefined;
  let metrics: MetricsServer | undefined;
  let prom: LocalPrometheus | undefined;
  const close = async () => {
    await prom?.close();
    await workers?.shutdown();
    await metrics?.close();
    await env.teardown();
  };
  try {
    // The real simulated provider (no scripted override), as `agentbalance worker` runs it.
    workers = await startWorkers(
      { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) },
      env.nativeConnection,
    );
    metrics = await startMetricsServer({ port: 0 });
    prom = await startPrometheus({
      bin: prometheusBin,
      targets: { 'agentbalance-worker': `127.0.0.1:${metrics.port}`, 'agentbalance-worker-sdk': `127.0.0.1:${sdkPort}` },
      intervalS: SCRAPE_INTERVAL_S,
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const targets = await prom.targets();
      const workerTargets = targets.filter((t) => t.labels.job?.startsWith('agentbalance-worker'));
      if (workerTargets.length === 2 && workerTargets.every((t) => t.health === 'up')) break;
      if (Date.now() > deadline)
        throw new Error(
          `Prometheus does not scrape the worker: ${JSON.stringify(workerTargets.map((t) => [t.labels.job, t.health, t.lastError]))}`,
        );
      await sleep(250);
    }
    await sleep(3 * SCRAPE_INTERVAL_S * 1000); // scrapes of the idle worker, before any campaign
    return { env, prom, metrics, sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface ObservedCampaign {
  campaignId: string;
  summary: CampaignSummary;
  rows: RunRow[];
  /** Unix seconds (wall clock) when the campaign was started and when its result came back. */
  startedS: number;
  finishedS: number;
}

/** Runs one campaign of `spec` to completion. */
export async function runCampaign(
  stack: ObservedStack,
  prefix: string,
  spec: CampaignSpecInput = OBSERVED_SPEC,
): Promise<ObservedCampaign> {
  const campaignId = uid(prefix);
  const args: CampaignArgs = { campaignId, spec: CampaignSpecSchema.parse(spec) };
  const startedS = Date.now() / 1000;
  const handle = await stack.env.client.workflow.start('campaign', {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: campaignId,
    args: [args],
  });
  const summary = (await handle.result()) as CampaignSummary;
  const finishedS = Date.now() / 1000;
  const rows = await (await resultsStore()).getRuns(campaignId);
  return { campaignId, summary, rows, startedS, finishedS };
}

/** Timestamps (unix seconds) of the samples Prometheus scraped from the product endpoint in the last `lookbackS`. */
export async function scrapeTimes(prom: LocalPrometheus, lookbackS = 600): Promise<number[]> {
  const [series] = await prom.query(`agentbalance_runs_in_flight{job="agentbalance-worker"}[${lookbackS}s]`);
  return (series?.points ?? []).map((p) => p.t);
}

/**
 * The window around a campaign on the scrape timeline: from the last scrape at least one interval
 * before it started (a scrape is answered a little after its timestamp, later on a loaded machine)
 * to the first scrape after its result came back (waits for that scrape). Both ends are sample
 * timestamps, so increase()/rate() over exactly this range need no extrapolation. Leave a few
 * scrape intervals between campaigns measured this way.
 */
export async function campaignWindow(prom: LocalPrometheus, c: ObservedCampaign): Promise<{ start: number; end: number }> {
  for (let i = 0; ; i++) {
    const times = await scrapeTimes(prom);
    const before = times.filter((t) => t <= c.startedS - SCRAPE_INTERVAL_S);
    const after = times.filter((t) => t >= c.finishedS);
    if (before.length && after.length) return { start: before[before.length - 1]!, end: after[0]! };
    if (i > 100) throw new Error(`no scrape around the campaign (${times.length} scrapes)`);
    await sleep(250);
  }
}
