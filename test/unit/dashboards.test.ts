import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { allGenAiSeriesNames, enableProcessMetrics, exportedMetricNames } from '../../activities/metrics';
import { TEMPORAL_SDK_METRICS, temporalSdkSeriesNames } from '../../infra/grafana/dashboards/temporal-sdk-metrics';

const INFRA = path.resolve(__dirname, '../../infra');
const read = (rel: string): string => readFileSync(path.join(INFRA, rel), 'utf8');

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'Inf',
  'NaN',
]);

/** The metric names a PromQL expression selects (functions, keywords, labels, strings and numbers removed). */
function promqlMetricNames(expr: string): string[] {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ');
  e = e.replace(/\$\{[^}]*\}|\$\w+/g, ' '); // Grafana variables
  e = e.replace(/\{[^}]*\}/g, ' '); // label matchers
  e = e.replace(/\[[^\]]*\]/g, ' '); // range selectors and subqueries
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  e = e.replace(/(^|[^A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?[a-z]*/g, '$1 '); // numbers, durations
  const out: string[] = [];
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    if (KEYWORDS.has(m[0])) continue;
    if (/^\s*\(/.test(e.slice(m.index + m[0].length))) continue; // a function or an aggregation
    out.push(m[0]);
  }
  return out;
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { query?: string | { query?: string } }[] };
}

const dashboard = JSON.parse(read('grafana/dashboards/agentbalance.json')) as Dashboard;
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
const variableQueries = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));

describe('Grafana dashboard', () => {
  test('the PromQL name extractor finds metric names and nothing else', () => {
    assert.deepEqual(promqlMetricNames('sum(rate(made_up_metric[5m]))'), ['made_up_metric']);
    assert.deepEqual(
      promqlMetricNames(
        'sum by (le, method) (rate(foo_bucket{method=~"$method", x="a b"}[$__rate_interval])) / ignoring(kind) group_left sum(bar_total offset 5m) * 3600 > 1e-9',
      ),
      ['foo_bucket', 'bar_total'],
    );
    assert.deepEqual(promqlMetricNames('histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le))'), ['x_bucket']);
  });

  test('every expression names only metrics the workers export (product registry in any GenAI semconv mode, or the listed Temporal SDK metrics)', async () => {
    enableProcessMetrics();
    const known = new Set([...(await exportedMetricNames()), ...allGenAiSeriesNames(), ...temporalSdkSeriesNames()]);
    assert.ok(exprs.length >= 15, `only ${exprs.length} expressions`);
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const names = promqlMetricNames(expr);
      assert.ok(names.length > 0, `panel "${panel}": no metric in ${expr}`);
      for (const n of names) {
        assert.ok(known.has(n), `panel "${panel}": ${n} is not exported (expr: ${expr})`);
        used.add(n);
      }
    }
    for (const q of variableQueries) {
      const m = /^label_values\(\s*([^,]+?)\s*,\s*\w+\s*\)$/.exec(q);
      assert.ok(m, `variable query ${q}`);
      for (const n of promqlMetricNames(m[1]!)) assert.ok(known.has(n), `variable query names ${n}`);
    }
    // The panels the issue asks for are there.
    for (const n of [
      'agentbalance_cost_usd_total',
      'gen_ai_client_token_usage_sum',
      'gen_ai_client_token_usage_bucket',
      'agentbalance_run_latency_seconds_bucket',
      'gen_ai_client_operation_duration_seconds_bucket',
      'agentbalance_budget_events_total',
      'agentbalance_campaign_accuracy',
      'agentbalance_campaign_auc',
      'agentbalance_runs_in_flight',
      'temporal_worker_task_slots_available',
      'temporal_activity_execution_failed',
      'temporal_workflow_task_execution_latency_bucket',
    ]) {
      assert.ok(used.has(n), `no panel uses ${n}`);
    }
    assert.ok(exprs.some((e) => /histogram_quantile\(.*agentbalance_run_latency_seconds_bucket/.test(e.expr)));
    assert.ok(exprs.some((e) => /histogram_quantile\(.*gen_ai_client_operation_duration_seconds_bucket/.test(e.expr)));
    // Every listed SDK metric is one the dashboard uses (the list stays the dashboard's, not a catalogue).
    for (const name of Object.keys(TEMPORAL_SDK_METRICS)) {
      assert.ok(
        [...used].some((u) => u === name || u.startsWith(`${name}_`)),
        `${name} is listed but unused`,
      );
    }
  });

  test('panels use the provisioned Prometheus datasource', () => {
    const ds = parse(read('grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string }[] };
    const uid = ds.datasources[0]!.uid;
    for (const p of panels.filter((q) => q.type !== 'row')) assert.equal(p.datasource?.uid, uid, `panel "${p.title}"`);
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
  ports?: string[];
}

describe('infra/compose.yaml', () => {
  const compose = parse(read('compose.yaml')) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };
  const services = compose.services;

  test('has the production-like stack: Temporal on PostgreSQL, UI, worker, Prometheus, Grafana', () => {
    for (const s of ['postgresql', 'temporal', 'temporal-ui', 'worker', 'prometheus', 'grafana'])
      assert.ok(services[s], `service ${s}`);
    const temporal = services.temporal!;
    assert.match(temporal.image ?? '', /^temporalio\/auto-setup:/);
    assert.match(temporal.environment?.DB ?? '', /^postgres/);
    assert.ok(services[temporal.environment?.POSTGRES_SEEDS ?? ''], 'POSTGRES_SEEDS names the postgres service');
    assert.match(services['temporal-ui']!.image ?? '', /^temporalio\/ui:/);
    const worker = services.worker!;
    assert.equal(worker.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.ok(worker.build, 'the worker is built from the repository');
    assert.deepEqual(worker.command?.slice(0, 3), ['node', 'bin/agentbalance.cjs', 'worker']);
  });

  test('every service it depends on exists and every file it references exists', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) assert.ok(services[d], `${name} depends on unknown service ${d}`);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.') || source.startsWith('/')) {
          assert.ok(existsSync(path.resolve(INFRA, source)), `${name}: ${source} does not exist`);
        } else {
          assert.ok(compose.volumes && source in compose.volumes, `${name}: named volume ${source} is not declared`);
        }
      }
      if (s.build) {
        const context = path.resolve(INFRA, s.build.context);
        assert.ok(existsSync(path.join(context, s.build.dockerfile)), `${name}: ${s.build.dockerfile}`);
        assert.ok(existsSync(path.join(context, 'bin/agentbalance.cjs')), `${name}: build context is the repository root`);
      }
    }
    assert.ok(existsSync(path.join(INFRA, 'Dockerfile.dockerignore')));
  });

  test('ports agree: worker flags, Dockerfile, Prometheus targets, Grafana provisioning', () => {
    const cmd = services.worker!.command!.join(' ');
    assert.match(cmd, /--metrics-port[ =]9464\b/);
    assert.match(cmd, /--sdk-metrics-port[ =]9465\b/);
    assert.match(cmd, /--metrics-host[ =]0\.0\.0\.0/);
    assert.match(read('Dockerfile'), /"bin\/agentbalance\.cjs", "worker", "--metrics-port", "9464"/);
    const prom = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };
    const workerPorts = prom.scrape_configs.flatMap((j) =>
      (j.dns_sd_configs ?? []).filter((d) => d.names.includes('worker')).map((d) => d.port),
    );
    assert.deepEqual(workerPorts.sort(), [9464, 9465]);
    for (const j of prom.scrape_configs) {
      for (const t of (j.static_configs ?? []).flatMap((c) => c.targets)) {
        const host = t.split(':')[0]!;
        assert.ok(host === 'localhost' || services[host], `${j.job_name}: target ${t} is no service`);
      }
    }
    const prometheusMount = services.prometheus!.volumes!.find((v) => v.includes('prometheus.yml'))!;
    assert.equal(prometheusMount.split(':')[1], '/etc/prometheus/prometheus.yml');
    const provider = parse(read('grafana/provisioning/dashboards/agentbalance.yml')) as {
      providers: { options: { path: string } }[];
    };
    const dashMount = services.grafana!.volumes!.find((v) => v.startsWith('./grafana/dashboards:'))!;
    assert.equal(dashMount.split(':')[1], provider.providers[0]!.options.path);
    const ds = parse(read('grafana/provisioning/datasources/prometheus.yml')) as { datasources: { url: string }[] };
    assert.equal(new URL(ds.datasources[0]!.url).hostname, 'prometheus');
  });
});
