/**
 * Renders the Grafana dashboard (infra/grafana/dashboards/agentbalance.json) from real Prometheus
 * data, as an operator would see it: `npm run dashboard:render`.
 *
 * Starts a Temporal dev server, a worker serving product and SDK metrics, and a throwaway
 * Prometheus (the `prometheus` binary; PROMETHEUS=path to pick one) scraping it every second with
 * infra/prometheus/alerts.yml loaded; runs two short campaigns on the simulated pool (time factor 0,
 * 1 s apart), evaluates every panel's query over their window and writes
 * bench/results/dashboard.png plus dashboard.json (queries, series counts, window).
 * Grafana itself is not needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-dashboard-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { evaluateDashboard, hasData, loadDashboard, renderDashboard } from '../infra/grafana/dashboard';
import { findPrometheus } from '../infra/prometheus/local';
import {
  campaignWindow,
  runCampaign,
  SCRAPE_INTERVAL_S,
  startObservedStack,
  scrapeTimes,
} from '../test/support/prometheus-campaign';

const OUT = path.join(__dirname, 'results');

async function main(): Promise<void> {
  const bin = findPrometheus();
  if (!bin) {
    process.stderr.write(
      'dashboard:render: no prometheus binary (apt-get install prometheus, or PROMETHEUS=/path/to/prometheus)\n',
    );
    process.exit(2);
  }
  const stack = await startObservedStack(bin);
  try {
    const first = await runCampaign(stack, 'campaign-1');
    await new Promise((r) => setTimeout(r, 3000)); // a visible gap between the two campaigns
    const second = await runCampaign(stack, 'campaign-2');
    const a = await campaignWindow(stack.prom, first);
    const b = await campaignWindow(stack.prom, second);
    // A few scrapes of idle before and after, as a dashboard's time range would show.
    const times = await scrapeTimes(stack.prom);
    const start = times.filter((t) => t <= a.start).at(-4) ?? a.start;
    const end = b.end;
    const range = { start, end, stepS: SCRAPE_INTERVAL_S, scrapeIntervalS: SCRAPE_INTERVAL_S };
    const dashboard = loadDashboard();
    const results = await evaluateDashboard(stack.prom, dashboard, range);
    const runs = first.rows.length + second.rows.length;
    const cost = [...first.rows, ...second.rows].reduce((s, r) => s + r.costUsd, 0);
    const when = new Date(start * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const subtitle = [
      `Real Prometheus (${SCRAPE_INTERVAL_S} s scrapes) of one worker, ${when} + ${(end - start).toFixed(0)} s (UTC): two campaigns on the ` +
        `SIMULATED pool (${runs} runs, simulated cost $${cost.toPrecision(3)}, never real spend). Variables: method=All, campaign=All.`,
      'Campaign 1 runs on a fresh worker, whose series exist at 0 from its start, so its first cost and tokens are counted ' +
        '(methods that did not run show as zero lines). Rendered by npm run dashboard:render (bench/dashboard.ts).',
    ];
    fs.mkdirSync(OUT, { recursive: true });
    const png = path.join(OUT, 'dashboard.png');
    await renderDashboard(dashboard, results, { subtitle, range }, png);
    const summary = {
      generatedBy: 'npm run dashboard:render (bench/dashboard.ts)',
      simulated: true,
      window: { start: new Date(start * 1000).toISOString(), end: new Date(end * 1000).toISOString(), stepS: range.stepS },
      campaigns: [first, second].map((c) => ({ campaignId: c.campaignId, runs: c.rows.length })),
      loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
      cpus: os.cpus().length,
      panels: results.map((r) => ({
        title: r.panel.title,
        type: r.panel.type,
        targets: r.targets.map((t) => ({
          refId: t.refId,
          expr: t.expr,
          instant: t.instant,
          series: t.series.length,
          hasData: hasData(t),
        })),
      })),
    };
    fs.writeFileSync(path.join(OUT, 'dashboard.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const empty = results.flatMap((r) => r.targets.filter((t) => !hasData(t)).map((t) => `${r.panel.title} ${t.refId}`));
    process.stdout.write(
      `wrote ${png} and dashboard.json (${results.length} panels${empty.length ? `; NO DATA: ${empty.join(', ')}` : ''})\n`,
    );
    if (empty.length) process.exitCode = 1;
  } finally {
    await stack.close();
    fs.rmSync(STATE, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`dashboard:render: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
