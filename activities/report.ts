/**
 * Campaign reports: statistics per method / budget kind / budget, AUC with bootstrap intervals, gaps to
 * the best baseline and performance-versus-budget curves (core/campaign/statistics.ts), rendered as
 * Markdown, JSON and one chart per benchmark and budget kind (vega-lite → vega View → SVG offline,
 * then @resvg/resvg-js → PNG). Every report states whether the pool is simulated, the seeds, the
 * fingerprint of the query ids, the price-table version and the code version.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import {
  computeStatistics,
  type RunOutcome,
  type AucGap,
  type CampaignStatistics,
  type CurveStatistics,
  type GapRow,
  type PointStatistics,
} from '../core/campaign/statistics';
import { splitFingerprint, type BudgetKind, type CampaignMeta } from '../core/campaign/spec';
import type { BenchmarkId } from '../core/domain';
import type { ResultsStore } from './results-store';
import { readCacheStats } from './providers/cache';
import { stateDir } from '../infra/paths';

const REPORT_VERSION = 1;

interface ReportMeta {
  campaignId: string;
  name: string | null;
  benchmark: BenchmarkId | 'unknown';
  split: string;
  pool: { name: string; simulated: boolean; priceTableVersion: string };
  seeds: { campaign: string; simulation: string | null; bootstrap: string };
  /** Fingerprint of the query ids (core/campaign/spec `splitFingerprint`). */
  splitFingerprint: string;
  queries: number;
  codeVersion: string;
  methods: string[];
  costBudgets: number[];
  latencyBudgets: number[];
  status: string;
  createdAt: string | null;
  finishedAt: string | null;
  artifacts: Record<string, string>;
}

export interface Report {
  version: number;
  meta: ReportMeta;
  /** True when any run (or the pool) is simulated: every rendering says so. */
  simulated: boolean;
  runs: { stored: number; expected: number | null; complete: boolean };
  /** Accuracy-versus-budget curves with AUC and its interval, per method and budget kind (= `metrics.curves`). */
  curves: CurveStatistics[];
  metrics: CampaignStatistics;
  /** Real providers' calls served from the opt-in response cache (null: no cache was used). */
  responseCache?: { hits: number; misses: number } | null;
}

export interface BuildReportOptions {
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Overrides the campaign's recorded code version (e.g. the git commit, computed by the caller). */
  codeVersion?: string;
}

/** Reads a campaign's metadata and runs and computes its statistics. */
export async function buildReport(store: ResultsStore, campaignId: string, opts: BuildReportOptions = {}): Promise<Report> {
  const [meta, runs] = await Promise.all([store.getCampaign(campaignId), store.getRuns(campaignId, { agents: false })]);
  if (!meta && runs.length === 0) throw new Error(`campaign "${campaignId}" is not in the results store (${store.location})`);
  const cache = readCacheStats(path.join(stateDir(), 'response-cache'), campaignId);
  return { ...reportFrom(campaignId, meta, runs, opts), responseCache: cache ?? null };
}

/** The pure part of `buildReport`. */
function reportFrom(
  campaignId: string,
  meta: CampaignMeta | undefined,
  runs: readonly (RunOutcome & { simulated: boolean })[],
  opts: BuildReportOptions = {},
): Report {
  const seed = meta?.spec.seed ?? '0';
  const metrics = computeStatistics(runs, { seed, ...(opts.resamples !== undefined ? { resamples: opts.resamples } : {}) });
  const taskIds = meta?.taskIds ?? [...new Set(runs.map((r) => r.taskId))];
  const methods = meta?.methods ?? [...new Set(runs.map((r) => r.method))];
  const costBudgets =
    meta?.spec.costBudgets ??
    [...new Set(runs.filter((r) => r.budgetKind === 'cost').map((r) => r.budget))].sort((a, b) => a - b);
  const latencyBudgets =
    meta?.spec.latencyBudgets ??
    [...new Set(runs.filter((r) => r.budgetKind === 'latency').map((r) => r.budget))].sort((a, b) => a - b);
  const expected = meta ? methods.length * (costBudgets.length + latencyBudgets.length) * taskIds.length : null;
  const simulated = (meta?.pool.simulated ?? false) || runs.some((r) => r.simulated);
  return {
    version: REPORT_VERSION,
    meta: {
      campaignId,
      name: meta?.spec.name ?? null,
      benchmark: meta?.spec.benchmark ?? 'unknown',
      split: meta?.spec.split ?? 'unknown',
      pool: meta?.pool ?? { name: 'unknown', simulated, priceTableVersion: 'unknown' },
      seeds: { campaign: seed, simulation: meta?.spec.simulation?.seed ?? null, bootstrap: seed },
      splitFingerprint: meta?.splitFingerprint ?? splitFingerprint(taskIds),
      queries: taskIds.length,
      codeVersion: opts.codeVersion ?? meta?.codeVersion ?? 'unknown',
      methods,
      costBudgets,
      latencyBudgets,
      status: meta?.status ?? 'unknown',
      createdAt: meta?.createdAt ?? null,
      finishedAt: meta?.finishedAt ?? null,
      artifacts: meta?.artifacts ?? {},
    },
    simulated,
    runs: { stored: runs.length, expected, complete: expected !== null && runs.length >= expected },
    curves: metrics.curves,
    metrics,
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown.

const KIND_LABEL: Record<BudgetKind, string> = { cost: 'cost', latency: 'latency' };

function formatBudget(kind: BudgetKind, b: number): string {
  if (kind === 'latency') return `${Number(b.toPrecision(3))} s`;
  return `$${b >= 0.01 ? Number(b.toPrecision(3)) : b.toExponential(2).replace(/\.?0+e/, 'e')}`;
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)} %`;
const signedPts = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} pts`;
const f3 = (x: number): string => (Number.isNaN(x) ? '–' : `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(3)}`);
const usd = (x: number): string => (Number.isNaN(x) ? '–' : `$${x.toPrecision(3)}`);
const sec = (x: number): string => (Number.isNaN(x) ? '–' : `${x.toPrecision(3)} s`);
const esc = (s: string): string => s.replace(/\|/g, '\\|');

function table(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function kindsOf(report: Report): BudgetKind[] {
  return (['cost', 'latency'] as const).filter((k) => report.metrics.curves.some((c) => c.budgetKind === k));
}

const signedPct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} %`;
const signed3 = (x: number): string => (Number.isNaN(x) ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`);
function renderMarkdown(
  report: Report,
  charts: readonly { budgetKind: BudgetKind; png: string; svg: string }[] = [],
): string {
  const m = report.meta;
  const out: string[] = [];
  const sim = report.simulated ? ' (simulated pool)' : '';
  out.push(`# Campaign ${m.campaignId}: ${m.benchmark}${sim}`);
  out.push('');
  if (report.simulated) {
    out.push(
      `> **Simulated.** Every number in this report comes from the simulated pool \`${m.pool.name}\`, not from real model calls.`,
    );
    out.push('');
  }
  out.push(
    table(
      ['', ''],
      [
        ['Benchmark', `${m.benchmark}, split \`${m.split}\`, ${m.queries} queries`],
        ['Query ids fingerprint', `\`${m.splitFingerprint}\``],
        ['Pool', `\`${m.pool.name}\` (${m.pool.simulated ? 'simulated' : 'real'}), price table ${m.pool.priceTableVersion}`],
        [
          'Seeds',
          `campaign \`${m.seeds.campaign}\`; simulation \`${m.seeds.simulation ?? '–'}\`; bootstrap \`${m.seeds.bootstrap}\` (${report.metrics.bootstrap.resamples} resamples, ${Math.round(100 * report.metrics.bootstrap.confidence)} % intervals)`,
        ],
        ['Code version', `\`${m.codeVersion}\``],
        ...Object.entries(m.artifacts).map(([k, v]) => [esc(k), `\`${esc(v)}\``]),
        [
          'Budgets',
          `cost: ${m.costBudgets.map((b) => formatBudget('cost', b)).join(', ') || '–'}; latency: ${m.latencyBudgets.map((b) => formatBudget('latency', b)).join(', ') || '–'}`,
        ],
        [
          'Runs',
          `${report.runs.stored}${report.runs.expected !== null ? ` of ${report.runs.expected}` : ''} stored${report.runs.complete ? '' : ' (incomplete)'}`,
        ],
        ...(report.responseCache
          ? [
              [
                'Response cache',
                `${report.responseCache.hits} of ${report.responseCache.hits + report.responseCache.misses} model calls came from the cache (not paid again)`,
              ],
            ]
          : []),
        ['Status', `${m.status}${m.finishedAt ? `, finished ${m.finishedAt}` : ''}`],
      ],
    ),
  );
  out.push('');
  out.push(
    'AUC (this project\'s metric) is the trapezoid area under accuracy over the normalised log-budget axis x = (log b − log b_min)/(log b_max − log b_min) ∈ [0, 1]; ' +
      'AIQ is RouterBench\'s: the area under the non-decreasing convex hull of (mean spend, accuracy) over a linear spend axis spanning every method\'s points, normalised to [0, 1]. ' +
      'Intervals are percentile bootstrap intervals over queries (paired across budgets and methods: every method answered the same queries). ' +
      'Gaps compare each method with the best *other* baseline (every method except `agentbalance` and `plugin-*`) at the same budget.',
  );

  for (const kind of kindsOf(report)) {
    const curves = report.metrics.curves
      .filter((c) => c.budgetKind === kind)
      .sort((a, b) => b.auc - a.auc || (a.method < b.method ? -1 : 1));
    const aucGap = new Map(report.metrics.aucGaps.filter((g) => g.budgetKind === kind).map((g) => [g.method, g]));
    out.push('', `## ${kind === 'cost' ? 'Cost' : 'Latency'} budgets`, '');
    const chart = charts.find((c) => c.budgetKind === kind);
    if (chart) out.push(`![accuracy vs ${KIND_LABEL[kind]} budget](${path.basename(chart.png)})`, '');
    out.push(`### ${kind === 'cost' ? 'Cost' : 'Latency'}-AUC`, '');
    out.push(
      table(
        ['Method', 'AUC', '95 % CI', 'AIQ', 'Δ AUC vs best baseline', '95 % CI of Δ', 'Best baseline'],
        curves.map((c) => {
          const g: AucGap | undefined = aucGap.get(c.method);
          return [
            `\`${esc(c.method)}\``,
            f3(c.auc),
            `[${f3(c.aucCi.lo)}, ${f3(c.aucCi.hi)}]`,
            f3(c.aiq),
            g?.gap !== null && g?.gap !== undefined ? `${g.gap >= 0 ? '+' : '−'}${Math.abs(g.gap).toFixed(3)}` : '–',
            g?.gapCi ? `[${f3(g.gapCi.lo)}, ${f3(g.gapCi.hi)}]` : '–',
            g?.bestBaseline ? `\`${esc(g.bestBaseline)}\`` : '–',
          ];
        }),
        ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
    const budgets = [...new Set(curves.flatMap((c) => c.budgets))].sort((a, b) => a - b);
    const byKey = new Map(report.metrics.points.filter((p) => p.budgetKind === kind).map((p) => [`${p.method}|${p.budget}`, p]));
    const gapKey = new Map(report.metrics.gaps.filter((g) => g.budgetKind === kind).map((g) => [`${g.method}|${g.budget}`, g]));
    out.push('', '### Accuracy at each budget', '');
    out.push(
      table(
        ['Method', ...budgets.map((b) => formatBudget(kind, b))],
        curves.map((c) => [`\`${esc(c.method)}\``, ...budgets.map((b) => pct(byKey.get(`${c.method}|${b}`)?.accuracy))]),
        ['l', ...budgets.map(() => 'r' as const)],
      ),
    );
    out.push('', '### Gap to the best other baseline at each budget', '');
    out.push(
      table(
        ['Method', ...budgets.map((b) => formatBudget(kind, b))],
        curves.map((c) => [
          `\`${esc(c.method)}\``,
          ...budgets.map((b) => {
            const g: GapRow | undefined = gapKey.get(`${c.method}|${b}`);
            return g && g.gap !== null
              ? `${signedPts(g.gap)}${g.gapCi ? ` [${signedPts(g.gapCi.lo)}, ${signedPts(g.gapCi.hi)}]` : ''} (vs \`${esc(g.bestBaseline!)}\`)`
              : '–';
          }),
        ]),
        ['l', ...budgets.map(() => 'r' as const)],
      ),
    );
    const mine = report.metrics.gaps.filter((g) => g.budgetKind === kind && g.method === 'agentbalance' && g.relativeGain !== null);
    if (mine.length > 0) {
      const rel = mine.map((g) => g.relativeGain!);
      out.push(
        '',
        `Relative gain of \`agentbalance\` over the best other baseline at matched ${KIND_LABEL[kind]} budgets (the paper's form): ` +
          `max ${signedPct(Math.max(...rel))}, mean ${signedPct(rel.reduce((a, b) => a + b, 0) / rel.length)} over ${rel.length} budgets.`,
      );
    }
    const pairs = report.metrics.pairs.filter((q) => q.budgetKind === kind);
    if (pairs.length > 0) {
      out.push('', '### Paired differences (a − b, same queries; 95 % paired bootstrap intervals)', '');
      out.push(
        table(
          ['a − b', 'Δ AUC', '95 % CI', ...budgets.map((b) => formatBudget(kind, b))],
          pairs.map((q) => [
            `\`${esc(q.a)}\` − \`${esc(q.b)}\``,
            signed3(q.aucDiff),
            `[${signed3(q.aucDiffCi.lo)}, ${signed3(q.aucDiffCi.hi)}]`,
            ...budgets.map((b) => {
              const d = q.perBudget.find((x) => x.budget === b);
              return d ? `${signedPts(d.diff)} [${signedPts(d.ci.lo)}, ${signedPts(d.ci.hi)}]` : '–';
            }),
          ]),
          ['l', 'r', 'r', ...budgets.map(() => 'r' as const)],
        ),
      );
    }
    out.push('', '### Details', '');
    const pts: PointStatistics[] = curves.flatMap((c) => c.budgets.map((b) => byKey.get(`${c.method}|${b}`)!));
    out.push(
      table(
        [
          'Method',
          'Budget',
          'n',
          'Accuracy',
          'Cost mean / p50 / p95',
          'Latency mean / p50 / p95',
          'Over budget',
          'Deadline hit',
          'Budget exhausted',
          'Ungraded',
          'Failed',
        ],
        pts.map((p) => [
          `\`${esc(p.method)}\``,
          formatBudget(kind, p.budget),
          String(p.n),
          pct(p.accuracy),
          `${usd(p.cost.mean)} / ${usd(p.cost.p50)} / ${usd(p.cost.p95)}`,
          `${sec(p.latency.mean)} / ${sec(p.latency.p50)} / ${sec(p.latency.p95)}`,
          String(p.violations),
          String(p.deadlineHits),
          String(p.budgetExhausted),
          String(p.ungraded),
          String(p.failed),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Charts: vega-lite → vega → SVG → PNG, offline.

/** The few entry points of vega-lite and vega this module uses (both packages are ESM-only). */
interface VegaLiteModule {
  compile(spec: object): { spec: object };
}
interface VegaView {
  toSVG(scaleFactor?: number): Promise<string>;
  finalize(): void;
}
interface VegaModule {
  parse(spec: object): object;
  View: new (runtime: object, opts: { renderer: 'none' }) => VegaView;
}

// vega ships ESM only with top-level await, which `require` cannot load: import it for real.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
let vegaLibs: Promise<{ vl: VegaLiteModule; vega: VegaModule }> | undefined;
function loadVega(): Promise<{ vl: VegaLiteModule; vega: VegaModule }> {
  vegaLibs ??= Promise.all([importEsm('vega-lite'), importEsm('vega')]).then(([vl, vega]) => ({
    vl: vl as VegaLiteModule,
    vega: vega as VegaModule,
  }));
  return vegaLibs;
}

/** Fonts resvg uses for the chart (vega's default `sans-serif` is mapped to it). */
export const CHART_FONT = 'DejaVu Sans';

/** The vega-lite spec of one performance-versus-budget chart. */
function chartSpec(report: Report, kind: BudgetKind): object {
  const curves: CurveStatistics[] = report.metrics.curves.filter((c) => c.budgetKind === kind);
  const order = [...curves].sort((a, b) => b.auc - a.auc || (a.method < b.method ? -1 : 1)).map((c) => c.method);
  const values = curves.flatMap((c) =>
    c.budgets.map((b, i) => ({
      method: c.method,
      family: c.method.startsWith('single:') ? 'single backbone' : c.method === 'agentbalance' ? 'agentbalance' : 'multi-agent',
      budget: b,
      accuracy: c.accuracies[i]!,
      auc: c.auc,
    })),
  );
  const grid = [...new Set(curves.flatMap((c) => c.budgets))].sort((a, b) => a - b);
  const xTitle = kind === 'cost' ? 'Cost budget per query (USD, log scale)' : 'Latency budget per query (seconds, log scale)';
  const sim = report.simulated ? ' (simulated pool)' : '';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640,
    height: 400,
    background: 'white',
    padding: 12,
    title: {
      text: `${report.meta.benchmark}: accuracy vs ${kind} budget${sim}`,
      subtitle: `campaign ${report.meta.campaignId} · pool ${report.meta.pool.name} · ${report.meta.queries} queries · ticks at the campaign's budgets · dashed: single backbone`,
      anchor: 'start',
      fontSize: 16,
    },
    data: { values },
    encoding: {
      x: {
        field: 'budget',
        type: 'quantitative',
        scale: { type: 'log', nice: false },
        axis: {
          title: xTitle,
          values: grid,
          format: kind === 'cost' ? '$.2~g' : '.3~g',
          grid: true,
          labelOverlap: 'greedy',
          labelFlush: false,
        },
      },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        axis: { title: 'Accuracy', format: '.0%', grid: true },
      },
      color: {
        field: 'method',
        type: 'nominal',
        sort: order,
        scale: { scheme: order.length > 10 ? 'tableau20' : 'tableau10' },
        legend: { title: 'Method (AUC order)', labelLimit: 240, symbolType: 'stroke', symbolStrokeWidth: 3 },
      },
      strokeDash: {
        field: 'family',
        type: 'nominal',
        scale: {
          domain: ['agentbalance', 'multi-agent', 'single backbone'],
          range: [
            [1, 0],
            [1, 0],
            [5, 3],
          ],
        },
        legend: null,
      },
    },
    layer: [
      {
        mark: { type: 'line', clip: true },
        encoding: { strokeWidth: { condition: { test: "datum.method === 'agentbalance'", value: 3.5 }, value: 1.8 } },
      },
      {
        mark: { type: 'point', filled: true, size: 36, clip: true },
        encoding: { tooltip: [{ field: 'method' }, { field: 'budget' }, { field: 'accuracy', format: '.1%' }] },
      },
    ],
    config: {
      font: CHART_FONT,
      axis: { labelFontSize: 12, titleFontSize: 13 },
      legend: { labelFontSize: 12, titleFontSize: 12 },
      view: { stroke: '#ccc' },
    },
  };
}

/** SVG text of a vega-lite spec, rendered headless (vega View with renderer 'none'). */
export async function renderSvg(vlSpec: object): Promise<string> {
  const { vl, vega } = await loadVega();
  const view = new vega.View(vega.parse(vl.compile(vlSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG at `scale`× its size (system fonts, DejaVu Sans by default). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: CHART_FONT, sansSerifFamily: CHART_FONT },
  });
  return r.render().asPng();
}

interface RenderedChart {
  benchmark: string;
  budgetKind: BudgetKind;
  svg: string;
  png: string;
}

export interface RenderedReport {
  markdownPath: string;
  jsonPath: string;
  charts: RenderedChart[];
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Writes `report.md`, `report.json` and `chart-<benchmark>-<kind>.{svg,png}` into `outDir`. */
export async function renderReport(report: Report, outDir: string): Promise<RenderedReport> {
  fs.mkdirSync(outDir, { recursive: true });
  const charts: RenderedChart[] = [];
  for (const kind of kindsOf(report)) {
    const base = `chart-${report.meta.benchmark}-${kind}`.replace(/[^A-Za-z0-9._-]/g, '_');
    const svgText = await renderSvg(chartSpec(report, kind));
    const svg = path.join(outDir, `${base}.svg`);
    const png = path.join(outDir, `${base}.png`);
    writeAtomic(svg, svgText);
    writeAtomic(png, svgToPng(svgText));
    charts.push({ benchmark: report.meta.benchmark, budgetKind: kind, svg, png });
  }
  const markdownPath = path.join(outDir, 'report.md');
  const jsonPath = path.join(outDir, 'report.json');
  writeAtomic(markdownPath, renderMarkdown(report, charts));
  writeAtomic(
    jsonPath,
    `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  return { markdownPath, jsonPath, charts };
}
