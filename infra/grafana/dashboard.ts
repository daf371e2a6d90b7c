/**
 * The Grafana dashboard (dashboards/agentbalance.json) outside Grafana: its queries with Grafana's
 * variables replaced, evaluated through a Prometheus HTTP API, and its panels rendered to one PNG
 * with the report's chart renderer (vega-lite → SVG → resvg), laid out on Grafana's grid.
 * Used by test/temporal/prometheus.test.ts and `npm run dashboard:render` (bench/dashboard.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CHART_FONT, renderSvg, svgToPng } from '../../activities/report';
import type { LocalPrometheus, Series } from '../prometheus/local';

const DASHBOARD_FILE = path.join(__dirname, 'dashboards', 'agentbalance.json');

const TargetSchema = z.object({
  refId: z.string(),
  expr: z.string().min(1),
  legendFormat: z.string().optional(),
  instant: z.boolean().optional(),
  format: z.string().optional(),
});
const GridPosSchema = z.object({ h: z.number(), w: z.number(), x: z.number(), y: z.number() });
const LeafPanelSchema = z.object({
  id: z.number(),
  type: z.string(),
  title: z.string(),
  gridPos: GridPosSchema,
  targets: z.array(TargetSchema).default([]),
  fieldConfig: z
    .object({ defaults: z.object({ unit: z.string().optional() }).passthrough() })
    .passthrough()
    .optional(),
});
const PanelSchema = LeafPanelSchema.extend({ panels: z.array(LeafPanelSchema).optional() });
const DashboardSchema = z.object({
  title: z.string(),
  panels: z.array(PanelSchema),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), allValue: z.string().optional(), includeAll: z.boolean().optional() })),
  }),
});
export type Dashboard = z.infer<typeof DashboardSchema>;
type Panel = z.infer<typeof LeafPanelSchema>;
type Target = z.infer<typeof TargetSchema>;

export function loadDashboard(file = DASHBOARD_FILE): Dashboard {
  return DashboardSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** Every panel, rows' nested panels included, in grid order (top to bottom, left to right). */
function panelsOf(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
}

/** Instant panels (stat, table, or a target marked instant) are evaluated once, at the end of the range. */
function isInstant(panel: Panel, target: Target): boolean {
  return target.instant === true || panel.type === 'stat' || panel.type === 'table';
}

export interface GrafanaRange {
  /** Unix seconds. */
  start: number;
  end: number;
  /** The range query's step in seconds (Grafana's $__interval). */
  stepS: number;
  /** The Prometheus scrape interval in seconds (the datasource's "scrape interval" setting). */
  scrapeIntervalS: number;
}

/** Seconds as a PromQL duration (milliseconds, so ranges can be exact). */
const promDuration = (s: number): string => `${Math.max(1, Math.round(s * 1000))}ms`;

/**
 * An expression as Grafana sends it: $__rate_interval = max($__interval + scrape interval,
 * 4 × scrape interval), $__range = the dashboard's range, $__interval = the step; template
 * variables at their "All" value (allValue, else `.*`).
 */
export function substitute(expr: string, d: Dashboard, r: GrafanaRange): string {
  const rateInterval = Math.max(r.stepS + r.scrapeIntervalS, 4 * r.scrapeIntervalS);
  let e = expr
    .replaceAll('$__rate_interval', promDuration(rateInterval))
    .replaceAll('$__range', promDuration(r.end - r.start))
    .replaceAll('$__interval', promDuration(r.stepS));
  for (const v of d.templating.list) {
    const all = v.allValue ?? '.*';
    e = e.replaceAll(`\${${v.name}}`, all).replace(new RegExp(`\\$${v.name}\\b`, 'g'), all);
  }
  const left = /\$\{?\w+/.exec(e);
  if (left) throw new Error(`unknown Grafana variable ${left[0]} in ${expr}`);
  return e;
}

/** Grafana's legend: {{label}} replaced by the series' label value. */
function legendOf(format: string | undefined, metric: Record<string, string>): string {
  if (!format) {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    return labels.length ? `{${labels.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : (metric.__name__ ?? 'value');
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, k: string) => metric[k] ?? '');
}

export interface TargetResult {
  refId: string;
  legendFormat?: string;
  /** The expression as sent to Prometheus. */
  expr: string;
  instant: boolean;
  series: Series[];
}

export interface PanelResult {
  panel: Panel;
  targets: TargetResult[];
}

/** Evaluates every target of every panel over the range (range queries, or instant at the end). */
export async function evaluateDashboard(prom: LocalPrometheus, d: Dashboard, r: GrafanaRange): Promise<PanelResult[]> {
  const out: PanelResult[] = [];
  for (const panel of panelsOf(d)) {
    if (panel.type === 'row') continue;
    const targets: TargetResult[] = [];
    for (const t of panel.targets) {
      const expr = substitute(t.expr, d, r);
      const instant = isInstant(panel, t);
      const series = instant ? await prom.query(expr, r.end) : await prom.queryRange(expr, r.start, r.end, r.stepS);
      targets.push({ refId: t.refId, legendFormat: t.legendFormat, expr, instant, series });
    }
    out.push({ panel, targets });
  }
  return out;
}

/** True when a target's result holds at least one finite value (histogram_quantile of nothing is NaN). */
export function hasData(t: TargetResult): boolean {
  return t.series.some((s) => s.points.some((p) => Number.isFinite(p.v)));
}

// Rendering.

/** d3 format of a Grafana unit. */
function formatOf(unit: string | undefined): string {
  switch (unit) {
    case 'currencyUSD':
      return '$.3~g';
    case 'percentunit':
      return '.1~%';
    case 'bytes':
      return '.3~s';
    default:
      return '.3~g';
  }
}

const UNIT_SUFFIX: Record<string, string> = { s: ' s', ms: ' ms', bytes: 'B', reqps: ' /s' };

/** Grafana grid units to pixels: 24 columns. */
const COLUMN_PX = 75;
const ROW_PX = 30;

function panelSpec(res: PanelResult, meta: DashboardMeta): object {
  const { panel } = res;
  const width = panel.gridPos.w * COLUMN_PX - 90;
  const height = panel.gridPos.h * ROW_PX - 110;
  const unit = panel.fieldConfig?.defaults.unit;
  const format = formatOf(unit);
  const suffix = UNIT_SUFFIX[unit ?? ''] ?? '';
  const title = { text: panel.title, anchor: 'start', fontSize: 14, subtitle: suffix ? `unit:${suffix}` : undefined };
  // Non-finite values (histogram_quantile over no observations) stay as nulls: lines break there.
  const points = res.targets.flatMap((t) =>
    t.series.flatMap((s) =>
      s.points.map((p) => ({
        t: p.t * 1000,
        v: Number.isFinite(p.v) ? p.v : null,
        series: legendOf(t.legendFormat, s.metric) || t.refId,
      })),
    ),
  );
  const values = points.filter((p) => p.v !== null);
  if (values.length === 0) {
    return {
      title,
      width,
      height,
      data: { values: [{ text: 'No data' }] },
      mark: { type: 'text', fontSize: 18, color: '#c00' },
      encoding: { text: { field: 'text' } },
    };
  }
  if (panel.type === 'stat' || panel.type === 'table') {
    // One bar per series with its value written out: what the stat's numbers and the table's rows say.
    return {
      title,
      width,
      height: Math.max(60, Math.min(height, 26 * values.length)),
      data: { values },
      encoding: {
        y: { field: 'series', type: 'nominal', sort: null, axis: { title: null, labelLimit: 360 } },
        x: { field: 'v', type: 'quantitative', axis: { title: null, format, grid: true } },
      },
      layer: [
        { mark: { type: 'bar', color: '#73bf69' } },
        {
          mark: { type: 'text', align: 'left', dx: 4, fontSize: 13, fontWeight: 'bold' },
          encoding: { text: { field: 'v', type: 'quantitative', format } },
        },
      ],
    };
  }
  return {
    title,
    width,
    height,
    data: { values: points },
    mark: {
      type: 'line',
      point: values.length < 400 ? { size: 12 } : false,
      strokeWidth: 1.6,
      invalid: 'break-paths-filter-domains',
    },
    encoding: {
      x: {
        field: 't',
        type: 'temporal',
        // Every time series on the dashboard's range, as Grafana draws them.
        scale: { type: 'utc', domain: [meta.range.start * 1000, meta.range.end * 1000] },
        axis: { title: null, format: '%H:%M:%S', labelOverlap: true },
      },
      y: { field: 'v', type: 'quantitative', axis: { title: null, format, grid: true } },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { scheme: 'tableau10' },
        legend: { title: null, orient: 'bottom', direction: 'vertical', columns: 2, labelLimit: 330, symbolType: 'stroke' },
      },
    },
  };
}

export interface DashboardMeta {
  /** Lines under the title (what was scraped, when). */
  subtitle: string[];
  /** The dashboard's time range (unix seconds): every time series' x axis. */
  range: { start: number; end: number };
}

/** One vega-lite spec for the whole dashboard: Grafana's rows stacked, panels side by side. */
function dashboardSpec(d: Dashboard, results: PanelResult[], meta: DashboardMeta): object {
  const byId = new Map(results.map((r) => [r.panel.id, r]));
  const panels = panelsOf(d);
  const rows: object[] = [];
  let current: object[] = [];
  let currentY = -1;
  const flush = () => {
    if (current.length)
      rows.push({
        hconcat: current,
        spacing: 24,
        // Each panel its own scales and legend (under it), as in Grafana.
        resolve: { scale: { color: 'independent', x: 'independent', y: 'independent' }, legend: { color: 'independent' } },
      });
    current = [];
  };
  for (const p of panels) {
    if (p.type === 'row') {
      flush();
      rows.push({
        width: 24 * COLUMN_PX,
        height: 8,
        data: { values: [{ text: p.title }] },
        mark: { type: 'text', align: 'left', fontSize: 17, fontWeight: 'bold', color: '#333' },
        encoding: { text: { field: 'text' }, x: { value: 0 } },
        view: { stroke: null },
      });
      continue;
    }
    if (p.gridPos.y !== currentY) flush();
    currentY = p.gridPos.y;
    const r = byId.get(p.id);
    if (r) current.push(panelSpec(r, meta));
  }
  flush();
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    title: { text: d.title, subtitle: meta.subtitle, anchor: 'start', fontSize: 22, subtitleFontSize: 13 },
    vconcat: rows,
    spacing: 18,
    resolve: { scale: { color: 'independent', x: 'independent', y: 'independent' }, legend: { color: 'independent' } },
    config: {
      font: CHART_FONT,
      axis: { labelFontSize: 11 },
      legend: { labelFontSize: 11 },
      view: { stroke: '#ddd' },
      title: { subtitleColor: '#555' },
    },
  };
}

/** Renders the dashboard to the PNG file `png`; returns the SVG it was drawn from. */
export async function renderDashboard(
  d: Dashboard,
  results: PanelResult[],
  meta: DashboardMeta,
  png: string,
): Promise<{ svg: string }> {
  const svg = await renderSvg(dashboardSpec(d, results, meta));
  fs.mkdirSync(path.dirname(png), { recursive: true });
  fs.writeFileSync(png, svgToPng(svg, 1));
  return { svg };
}
