/**
 * The Grafana dashboard and the alert rules evaluated by a real Prometheus (issue #15): Prometheus
 * scrapes a real worker (product and SDK metrics) during a campaign on a real Temporal dev server,
 * then every dashboard query and every recording rule is evaluated through its HTTP API over the
 * campaign's window. A query without data fails and names its panel; the cost panels must agree
 * with the results store.
 *
 * Needs the `prometheus` binary (Debian package `prometheus`; infra/bootstrap.sh installs it in CI).
 * Outside CI the test skips without it; in CI (CI=true) a missing binary is a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-prometheus-test-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;
// Both generations of GenAI metric names (read when the metrics are first used), so the test can
// check that the dashboard shows the same numbers from either (see "GenAI semconv" below).
process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'gen_ai_latest_experimental/dup';

import { parse } from 'yaml';
import { loadPool } from '../../activities/pool-loader';
import type { RunRow } from '../../activities/results-store';
import { findBackbone } from '../../core/pool-file';
import {
  evaluateDashboard,
  hasData,
  loadDashboard,
  renderDashboard,
  substitute,
  type GrafanaRange,
  type PanelResult,
} from '../../infra/grafana/dashboard';
import { findPrometheus, PROMETHEUS_DIR, type Series } from '../../infra/prometheus/local';
import {
  campaignWindow,
  OBSERVED_SPEC,
  runCampaign,
  SCRAPE_INTERVAL_S,
  startObservedStack,
  type ObservedCampaign,
  type ObservedStack,
} from '../support/prometheus-campaign';

const bin = findPrometheus();
const inCi = process.env.CI === 'true';
const skip =
  !bin && !inCi
    ? 'prometheus not installed: apt-get install prometheus (or AGENTBALANCE_INSTALL_PROMETHEUS=1 bash infra/bootstrap.sh), or set PROMETHEUS=/path/to/prometheus'
    : false;

const dashboard = loadDashboard();
let stack: ObservedStack | undefined;
let measured: ObservedCampaign;
let range: GrafanaRange;
let results: PanelResult[] = [];

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: Prometheus ${a} vs results store ${b}`);
/** The value of an instant query's series. */
const instantValue = (s: Series): number => s.points[0]!.v;
const called = (rows: RunRow[]) => rows.flatMap((r) => r.agents.filter((a) => !a.status.startsWith('skipped')));

describe('the dashboard and rules on a real Prometheus scraping a worker during a campaign', { skip }, () => {
  before(async () => {
    assert.ok(bin, 'prometheus is required when CI=true (infra/bootstrap.sh installs it)');
    stack = await startObservedStack(bin);
    // The worker's first campaign: its series exist at 0 from worker start (activities/metrics.ts
    // `initSeries`), so Prometheus sees their first increments and no warm-up campaign is needed.
    measured = await runCampaign(stack, 'prom');
    const w = await campaignWindow(stack.prom, measured);
    range = { ...w, stepS: SCRAPE_INTERVAL_S, scrapeIntervalS: SCRAPE_INTERVAL_S };
    results = await evaluateDashboard(stack.prom, dashboard, range);
  });

  after(async () => {
    await stack?.close();
    rmSync(STATE, { recursive: true, force: true });
  });

  test('the campaign produced what the dashboard shows: runs, budget events, failed attempts', () => {
    const rows = measured.rows;
    assert.equal(rows.length, measured.summary.done);
    assert.ok(rows.length >= 8, `${rows.length} runs`);
    assert.ok(sum(rows.map((r) => r.costUsd)) > 0);
    assert.ok(
      rows.some((r) => r.deadlineHit),
      'a run hit its latency deadline',
    );
    assert.ok(
      rows.some((r) => r.budgetExhausted),
      'a run exhausted its cost budget',
    );
  });

  test('every dashboard query returns data over the campaign window (the failure names the panel)', async () => {
    const missing: string[] = [];
    let evaluated = 0;
    for (const r of results) {
      for (const t of r.targets) {
        evaluated++;
        if (!hasData(t)) missing.push(`panel "${r.panel.title}" (id ${r.panel.id}) target ${t.refId}: ${t.expr}`);
      }
    }
    // Template variables: label_values(metric, label) as Grafana asks it.
    const variables = dashboard.templating.list.length;
    const raw = JSON.parse(readFileSync(path.join(PROMETHEUS_DIR, '../grafana/dashboards/agentbalance.json'), 'utf8')) as {
      templating: { list: { name: string; definition: string }[] };
    };
    for (const v of raw.templating.list) {
      const m = /^label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)$/.exec(v.definition);
      assert.ok(m, `variable ${v.name}: ${v.definition}`);
      const values = (await stack!.prom.query(`count by (${m[2]}) (${m[1]})`, range.end)).map((s) => s.metric[m[2]!]);
      if (values.length === 0) missing.push(`variable $${v.name}: ${v.definition}`);
      evaluated++;
    }
    const panels = results.length;
    console.log(
      `prometheus.test: evaluated ${evaluated} dashboard queries (${evaluated - variables} panel targets in ${panels} panels, ${variables} variables) over ${(range.end - range.start).toFixed(1)} s; ${evaluated - missing.length} returned data`,
    );
    assert.deepEqual(missing, [], `queries without data:\n${missing.join('\n')}`);
    const leafPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
    assert.equal(panels, leafPanels.length, 'every panel was evaluated');
  });

  test("before the worker's first campaign, its cost and run series exist at 0 (no first increment is lost)", async () => {
    const pool = loadPool(OBSERVED_SPEC.pool ?? 'sim-14');
    const at = range.start; // a scrape before the campaign started
    for (const method of ['chain', 'single:gpt-4o-mini']) {
      const cost = await stack!.prom.query(`agentbalance_cost_usd_total{job="agentbalance-worker",method="${method}"}`, at);
      const models = method === 'chain' ? pool.backbones.map((b) => b.model) : [findBackbone(pool, 'gpt-4o-mini')!.model];
      assert.deepEqual(cost.map((s) => s.metric.model).sort(), [...models].sort(), `cost series of ${method}`);
      assert.ok(
        cost.every((s) => instantValue(s) === 0),
        `cost of ${method} at 0 before the campaign`,
      );
      const runs = await stack!.prom.query(`agentbalance_run_cost_usd_count{job="agentbalance-worker",method="${method}"}`, at);
      assert.deepEqual(runs.map(instantValue), [0], `run count of ${method} at 0 before the campaign`);
    }
  });

  test('the cost panels agree with the results store', async () => {
    const rows = measured.rows;
    const storeTotal = sum(rows.map((r) => r.costUsd));
    const panel = (title: string) => {
      const r = results.find((x) => x.panel.title.startsWith(title));
      assert.ok(r, `panel ${title}`);
      return r;
    };

    // "Cost in range" over exactly the campaign window: every USD the store booked, labelled simulated.
    const inRange = panel('Cost in range').targets[0]!.series;
    assert.deepEqual(
      inRange.map((s) => s.metric.simulated),
      ['true'],
    );
    close(sum(inRange.map(instantValue)), storeTotal, 'cost in range');

    // The rate panels, evaluated at the window's end with the rate window = the campaign window:
    // rate × window = the cost booked in it, per method and per model.
    // In milliseconds, as the range selector has it (unix seconds as floats carry ~1e-7 s of noise).
    const windowS = Math.round((range.end - range.start) * 1000) / 1000;
    const atEnd = { ...range, stepS: windowS - SCRAPE_INTERVAL_S }; // makes $__rate_interval the window
    const evalAtEnd = async (title: string) =>
      (await stack!.prom.query(substitute(panel(title).panel.targets[0]!.expr, dashboard, atEnd), range.end)).map((s) => ({
        metric: s.metric,
        usd: (instantValue(s) / 3600) * windowS,
      }));
    // Label sets created at 0 that the campaign did not book stay at 0 and are left out.
    const perMethod = (await evalAtEnd('Cost rate per method')).filter((s) => s.usd > 0);
    const methods = [...new Set(rows.map((r) => r.method))].sort();
    assert.deepEqual(perMethod.map((s) => s.metric.method).sort(), methods);
    for (const m of methods)
      close(
        sum(perMethod.filter((s) => s.metric.method === m).map((s) => s.usd)),
        sum(rows.filter((r) => r.method === m).map((r) => r.costUsd)),
        `cost of ${m}`,
      );
    const perModel = (await evalAtEnd('Cost rate per model')).filter((s) => s.usd > 0);
    const byModel = new Map<string, number>();
    // The model label is the model id sent to the provider (the pool's backbone `model`).
    const pool = loadPool(OBSERVED_SPEC.pool ?? 'sim-14');
    const modelOf = (backbone: string) => findBackbone(pool, backbone)?.model ?? backbone;
    for (const a of rows.flatMap((r) => r.agents))
      if (a.costUsd > 0) byModel.set(modelOf(a.backbone), (byModel.get(modelOf(a.backbone)) ?? 0) + a.costUsd);
    assert.deepEqual(perModel.map((s) => s.metric.model).sort(), [...byModel.keys()].sort(), 'models with cost');
    for (const s of perModel) {
      assert.equal(s.metric.provider, 'simulated');
      close(s.usd, byModel.get(s.metric.model!)!, `cost of ${s.metric.model}`);
    }

    // Runs and tokens, the same way.
    const runsPerS = await stack!.prom.query(
      substitute(panel('Runs finished per second').panel.targets[0]!.expr, dashboard, atEnd),
      range.end,
    );
    close(sum(runsPerS.map(instantValue)) * windowS, rows.length, 'runs finished');
    const tokensPerS = await stack!.prom.query(
      substitute(panel('Tokens per second').panel.targets[0]!.expr, dashboard, atEnd),
      range.end,
    );
    const storeTokens = sum(called(rows).map((a) => a.inputTokens + a.outputTokens));
    close(sum(tokensPerS.map(instantValue)) * windowS, storeTokens, 'tokens');
  });

  test('GenAI semconv: the token and duration panels show the same numbers from v1.41 names and from the latest names', async () => {
    // The worker emits both generations here; hide one at a time, as a worker in that mode would.
    const hideLatest = (e: string) => e.replaceAll('gen_ai_client_inference_', 'not_emitted_');
    const hideV141 = (e: string) =>
      e
        .replaceAll('gen_ai_client_token_usage_', 'not_emitted_')
        .replaceAll('gen_ai_client_operation_duration_seconds_', 'not_emitted_');
    const genAiPanels = results.filter((r) => r.panel.targets.some((t) => t.expr.includes('gen_ai_client_')));
    assert.ok(genAiPanels.length >= 3, 'token and duration panels');
    for (const r of genAiPanels) {
      for (const t of r.targets) {
        const v141 = await stack!.prom.queryRange(hideLatest(t.expr), range.start, range.end, range.stepS);
        const latest = await stack!.prom.queryRange(hideV141(t.expr), range.start, range.end, range.stepS);
        const key = (s: Series[]) =>
          s
            .map(
              (x) =>
                `${JSON.stringify(Object.entries(x.metric).sort())} ${x.points.map((p) => `${p.t}=${p.v.toPrecision(12)}`).join(',')}`,
            )
            .sort();
        assert.ok(hasData({ ...t, series: v141 }), `panel "${r.panel.title}" ${t.refId}: no data from v1.41 names`);
        assert.ok(hasData({ ...t, series: latest }), `panel "${r.panel.title}" ${t.refId}: no data from the latest names`);
        assert.deepEqual(key(latest), key(v141), `panel "${r.panel.title}" ${t.refId}: v1.41 and latest names disagree`);
      }
    }
    // The counters of the latest conventions carry the modality; their sum is the store's tokens.
    const r = `${Math.round((range.end - range.start) * 1000)}ms`;
    const byModality = await stack!.prom.query(
      `sum by (gen_ai_token_modality) (increase(gen_ai_client_inference_usage_input_tokens_total[${r}])) + sum by (gen_ai_token_modality) (increase(gen_ai_client_inference_usage_output_tokens_total[${r}]))`,
      range.end,
    );
    assert.deepEqual(
      byModality.map((s) => s.metric.gen_ai_token_modality),
      ['text'],
    );
    close(
      instantValue(byModality[0]!),
      sum(called(measured.rows).map((a) => a.inputTokens + a.outputTokens)),
      'tokens (latest counters)',
    );
  });

  test('every recording rule returns data and every rule evaluates without error', async () => {
    const rules = parse(readFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as {
      groups: { rules: { record?: string; alert?: string }[] }[];
    };
    const records = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
    assert.ok(records.length >= 3);
    for (const name of records) {
      const series = await stack!.prom.queryRange(name, range.start, range.end, range.stepS);
      assert.ok(
        series.some((s) => s.points.some((p) => Number.isFinite(p.v))),
        `recording rule ${name} has no data over the campaign window`,
      );
    }
    const loaded = (await stack!.prom.rules()).flatMap((g) => g.rules);
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    assert.deepEqual(
      loaded.map((r) => r.name).sort(),
      [...records, ...alerts].sort(),
      'Prometheus loaded every rule of alerts.yml',
    );
    for (const r of loaded) assert.equal(r.health, 'ok', `rule ${r.name}: ${r.lastError ?? ''}`);
    // A simulated campaign spends no real money and the worker is up: no alert fires.
    const firing = loaded.filter((r) => r.type === 'alerting' && r.state === 'firing').map((r) => r.name);
    assert.deepEqual(firing, []);
  });

  test('the dashboard renders to a PNG from the same results', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'ab-dashboard-'));
    try {
      const png = path.join(out, 'dashboard.png');
      const { svg: svgText } = await renderDashboard(dashboard, results, { subtitle: ['test render'], range }, png);
      assert.ok(statSync(png).size > 50_000, 'a PNG of some size');
      for (const r of results)
        assert.ok(svgText.includes(r.panel.title.replaceAll('&', '&amp;')), `panel "${r.panel.title}" drawn`);
      assert.ok(!svgText.includes('No data'), 'no panel drawn empty');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
