/**
 * `npm run evaluate`: the method evaluation of issue #13 in one command. For each benchmark it runs
 * one campaign (every method × every budget × the test split's queries, on the simulated pool
 * sim-14 unless --pool says otherwise), then writes per-benchmark reports and a summary into
 * bench/results/evaluation/: AUC (this project's metric: normalised log-budget axis) and
 * RouterBench's AIQ per method and budget kind, agentbalance against the best baseline with paired
 * 95 % bootstrap intervals, relative gains at matched budgets (max and mean, the paper's form) and
 * plugin-X − X. Everything from the simulated pool is labelled simulated.
 *
 *   npm run evaluate                                   # the full evaluation (defaults below)
 *   npm run evaluate -- --limit 30 --methods agentbalance,cascade,cot-sc --benchmarks gsm8k
 *
 * Hyper-parameters are the product's defaults for every benchmark; before each benchmark's campaign
 * the pool is profiled on that benchmark's profile split (`agentbalance profile`: measured output
 * lengths and latency models, abilities shrunk toward the pool file's), the designer trains on the
 * train split only, and queries come from the test split. `--profile-limit 0` skips profiling (the
 * designer then uses the pool file's profile).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { campaignSpecFrom, runCampaign } from '../client/commands/campaign';
import { profileBenchmark } from '../client/commands/designer';
import type { Report } from '../activities/report';
import { renderSvg, svgToPng } from '../activities/report';
import type { CurveStatistics, PairedDiff } from '../core/campaign/statistics';
import { PROJECT_ROOT } from '../infra/paths';


export const DEFAULT_BENCHMARKS = ['gsm8k', 'mmlu', 'math500', 'humaneval'];
export const DEFAULT_METHODS = [
  'agentbalance',
  'single:*',
  'cot-sc',
  'cascade',
  'bamas',
  'gdesigner',
  'agentprune',
  'agentdropout',
  'plugin-gdesigner',
  'plugin-agentprune',
  'plugin-agentdropout',
];
export const DEFAULT_COST_BUDGETS = [0.00005, 0.0002, 0.001, 0.003, 0.01];
export const DEFAULT_LATENCY_BUDGETS = [1, 3, 10, 30];
/** Paired 95 % lower bound of agentbalance − best baseline that counts as "at least as good". */
export const TARGET_LOWER_BOUND = -0.01;

function gitHead(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function datasetsRoot(given?: string): string | undefined {
  for (const p of [given, process.env.AGENTBALANCE_DATASETS, path.resolve(PROJECT_ROOT, '../shared/datasets'), path.resolve(PROJECT_ROOT, '../../shared/datasets')]) {
    if (p && existsSync(p)) return p;
  }
  return undefined;
}

interface BenchmarkResult {
  benchmark: string;
  campaignId: string;
  queries: number;
  runs: number;
  wallS: number;
  simulated: boolean;
  /** The pool profile the designer used. */
  profile: { source: 'profiling' | 'pool-file'; observations: number; items: number; wallS: number; regressorHeldOutRmse?: number; thetaPriorSd?: number };
  perKind: Record<
    string,
    {
      agentbalance: { auc: number; aucCi: [number, number]; aiq: number } | null;
      bestBaseline: { method: string; auc: number; aiq: number } | null;
      bestBaselineByAiq: { method: string; aiq: number } | null;
      diff: { value: number; ci: [number, number] } | null;
      targetMet: boolean | null;
      relativeGain: { max: number; mean: number; perBudget: { budget: number; gain: number; vs: string }[] } | null;
      plugins: { a: string; b: string; aucDiff: number; ci: [number, number]; atLeastAsGood: boolean }[];
    }
  >;
}

function summarise(benchmark: string, report: Report, wallS: number, profile: BenchmarkResult['profile']): BenchmarkResult {
  const m = report.metrics;
  const perKind: BenchmarkResult['perKind'] = {};
  for (const kind of ['cost', 'latency'] as const) {
    const curves = m.curves.filter((c) => c.budgetKind === kind);
    if (curves.length === 0) continue;
    const isBaseline = (c: CurveStatistics): boolean => c.method !== 'agentbalance' && !c.method.startsWith('plugin-');
    const mine = curves.find((c) => c.method === 'agentbalance');
    const baselines = curves.filter(isBaseline);
    const best = [...baselines].sort((a, b) => b.auc - a.auc)[0];
    const bestAiq = [...baselines].sort((a, b) => b.aiq - a.aiq)[0];
    const gap = m.aucGaps.find((g) => g.method === 'agentbalance' && g.budgetKind === kind);
    const gains = m.gaps.filter((g) => g.method === 'agentbalance' && g.budgetKind === kind && g.relativeGain !== null);
    const plugins = m.pairs
      .filter((p: PairedDiff) => p.budgetKind === kind && p.a.startsWith('plugin-'))
      .map((p) => ({ a: p.a, b: p.b, aucDiff: p.aucDiff, ci: [p.aucDiffCi.lo, p.aucDiffCi.hi] as [number, number], atLeastAsGood: p.aucDiffCi.lo >= TARGET_LOWER_BOUND }));
    perKind[kind] = {
      agentbalance: mine ? { auc: mine.auc, aucCi: [mine.aucCi.lo, mine.aucCi.hi], aiq: mine.aiq } : null,
      bestBaseline: best ? { method: best.method, auc: best.auc, aiq: best.aiq } : null,
      bestBaselineByAiq: bestAiq ? { method: bestAiq.method, aiq: bestAiq.aiq } : null,
      diff: gap?.gap != null && gap.gapCi ? { value: gap.gap, ci: [gap.gapCi.lo, gap.gapCi.hi] } : null,
      targetMet: gap?.gapCi ? gap.gapCi.lo >= TARGET_LOWER_BOUND : null,
      relativeGain: gains.length
        ? {
            max: Math.max(...gains.map((g) => g.relativeGain!)),
            mean: gains.reduce((s, g) => s + g.relativeGain!, 0) / gains.length,
            perBudget: gains.map((g) => ({ budget: g.budget, gain: g.relativeGain!, vs: g.bestBaseline! })),
          }
        : null,
      plugins,
    };
  }
  return {
    benchmark,
    campaignId: report.meta.campaignId,
    queries: report.meta.queries,
    runs: report.runs.stored,
    wallS,
    simulated: report.simulated,
    profile,
    perKind,
  };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
const s3 = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}` : '–');
const pc = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)} %`;

function markdown(results: readonly BenchmarkResult[], info: Record<string, string>): string {
  const sim = results.some((r) => r.simulated);
  const out: string[] = [];
  out.push(`# Method evaluation${sim ? ' (SIMULATED pool: not real LLM results)' : ''}`, '');
  if (sim) out.push('> **Simulated.** Every number below comes from the simulated pool, not from real model calls.', '');
  out.push('| | |', '| --- | --- |', ...Object.entries(info).map(([k, v]) => `| ${k} | ${v} |`), '');
  out.push(
    'AUC is this project\'s metric (accuracy over the normalised log-budget axis); AIQ is RouterBench\'s (non-decreasing convex hull of accuracy over a linear spend axis, normalised). ' +
      `Target: agentbalance's AUC − the best baseline's AUC has a paired 95 % bootstrap lower bound ≥ ${TARGET_LOWER_BOUND}.`,
    '',
  );
  for (const kind of ['cost', 'latency']) {
    out.push(`## ${kind === 'cost' ? 'Cost' : 'Latency'} budgets`, '');
    out.push(
      '| Benchmark | queries | agentbalance AUC | best baseline (AUC) | Δ AUC [95 % paired CI] | target | agentbalance AIQ | best baseline by AIQ | rel. gain at matched budgets (max / mean) |',
      '| --- | ---: | ---: | --- | ---: | --- | ---: | --- | ---: |',
    );
    for (const r of results) {
      const k = r.perKind[kind];
      if (!k) continue;
      out.push(
        `| ${r.benchmark} | ${r.queries} | ${k.agentbalance ? f3(k.agentbalance.auc) : '–'} | ${k.bestBaseline ? `\`${k.bestBaseline.method}\` (${f3(k.bestBaseline.auc)})` : '–'} | ${k.diff ? `${s3(k.diff.value)} [${s3(k.diff.ci[0])}, ${s3(k.diff.ci[1])}]` : '–'} | ${k.targetMet === null ? '–' : k.targetMet ? 'met' : '**missed**'} | ${k.agentbalance ? f3(k.agentbalance.aiq) : '–'} | ${k.bestBaselineByAiq ? `\`${k.bestBaselineByAiq.method}\` (${f3(k.bestBaselineByAiq.aiq)})` : '–'} | ${k.relativeGain ? `${pc(k.relativeGain.max)} / ${pc(k.relativeGain.mean)}` : '–'} |`,
      );
    }
    out.push('', `### Plug-ins: plugin-X − X (${kind}-AUC, paired 95 % CI)`, '');
    out.push('| Benchmark | pair | Δ AUC | 95 % CI | at least as good (lower bound ≥ −0.01) |', '| --- | --- | ---: | ---: | --- |');
    for (const r of results)
      for (const p of r.perKind[kind]?.plugins ?? [])
        out.push(`| ${r.benchmark} | \`${p.a}\` − \`${p.b}\` | ${s3(p.aucDiff)} | [${s3(p.ci[0])}, ${s3(p.ci[1])}] | ${p.atLeastAsGood ? 'yes' : '**no**'} |`);
    out.push('');
  }
  out.push('## Per benchmark', '');
  for (const r of results)
    out.push(
      `- ${r.benchmark}: campaign \`${r.campaignId}\`, ${r.queries} queries, ${r.runs} runs in ${(r.wallS / 60).toFixed(1)} min; pool profile: ${
        r.profile.source === 'profiling'
          ? `profiled on the profile split (${r.profile.items} queries, ${r.profile.observations} calls, ${r.profile.wallS.toFixed(0)} s; abilities around the pool file's, prior sd ${r.profile.thetaPriorSd}; σ_b ${r.profile.regressorHeldOutRmse?.toFixed(2)} held out)`
          : 'the pool file\'s (not profiled)'
      }; full report in [${r.benchmark}/report.md](${r.benchmark}/report.md)`,
    );
  out.push('');
  return out.join('\n');
}

/** One chart per budget kind: agentbalance's and the best baseline's AUC per benchmark. */
async function summaryChart(results: readonly BenchmarkResult[], kind: string, outDir: string): Promise<string[]> {
  const values = results.flatMap((r) => {
    const k = r.perKind[kind];
    if (!k?.agentbalance || !k.bestBaseline) return [];
    return [
      { benchmark: r.benchmark, method: 'agentbalance', auc: k.agentbalance.auc },
      { benchmark: r.benchmark, method: `best baseline`, auc: k.bestBaseline.auc },
    ];
  });
  if (values.length === 0) return [];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${kind}-AUC: agentbalance vs the best baseline (SIMULATED pool)`,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'benchmark', type: 'nominal' },
      xOffset: { field: 'method' },
      y: { field: 'auc', type: 'quantitative', title: `${kind}-AUC`, scale: { domain: [0, 1] } },
      color: { field: 'method', type: 'nominal' },
    },
    width: 360,
    height: 220,
    background: 'white',
  };
  const svg = await renderSvg(spec);
  const svgPath = path.join(outDir, `summary-${kind}.svg`);
  const pngPath = path.join(outDir, `summary-${kind}.png`);
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, svgToPng(svg));
  return [svgPath, pngPath];
}

async function main(): Promise<void> {
  const o = new Command('evaluate')
    .option('--benchmarks <list>', 'benchmarks', DEFAULT_BENCHMARKS.join(','))
    .option('--methods <list>', 'methods', DEFAULT_METHODS.join(','))
    .option('--limit <n>', 'queries per benchmark (the first N of the test split; HumanEval\'s holds 75 of its 164 problems)', '150')
    .option('--limits <list>', 'per-benchmark overrides of --limit, e.g. humaneval=10')
    .option('--cost-budgets <list>', 'cost budgets (USD)', DEFAULT_COST_BUDGETS.join(','))
    .option('--latency-budgets <list>', 'latency budgets (s)', DEFAULT_LATENCY_BUDGETS.join(','))
    .option('--concurrency <n>', 'runs in flight', '32')
    .option('--pool <name>', 'pool', 'sim-14')
    .option('--data-root <dir>', 'folder holding <benchmark>/ datasets (default ../shared/datasets)')
    .option('--out <dir>', 'output folder', path.join(PROJECT_ROOT, 'bench/results/evaluation'))
    .option('--rerun-methods <list>', 'forget these methods\' stored runs in each benchmark\'s campaign and run them again (after changing their code); the other methods\' runs are kept')
    .option('--profile-limit <n>', "profile-split queries per backbone to profile on before each campaign (0: the pool file's profile)", '40')
    .parse()
    .opts<Record<string, string>>();
  const profileLimit = Number(o.profileLimit);
  if (!Number.isInteger(profileLimit) || profileLimit < 0) {
    process.stderr.write(`evaluate: --profile-limit: expected a whole number ≥ 0 (got "${o.profileLimit}")\n`);
    process.exit(2);
  }
  const root = datasetsRoot(o.dataRoot);
  if (!root) {
    process.stderr.write('evaluate: no datasets folder found; pass --data-root or set AGENTBALANCE_DATASETS\n');
    process.exit(2);
  }
  const outDir = o.out!;
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const load0 = os.loadavg()[0]!;
  const limits = new Map(
    (o.limits ?? '')
      .split(',')
      .map((x) => x.trim().split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k!, v!]),
  );
  const results: BenchmarkResult[] = [];
  const campaignCodeVersions = new Set<string>();
  for (const benchmark of o.benchmarks!.split(',').map((s) => s.trim()).filter(Boolean)) {
    const t0 = Date.now();
    process.stderr.write(`evaluate: ${benchmark}…\n`);
    let profile: BenchmarkResult['profile'] = { source: 'pool-file', observations: 0, items: 0, wallS: 0 };
    if (profileLimit > 0) {
      // Profile split only (never the test split): the designer then trains on the measured profile.
      const p0 = Date.now();
      const res = await profileBenchmark({ pool: o.pool, benchmark, data: path.join(root, benchmark), limit: String(profileLimit), seed: '0' });
      profile = {
        source: 'profiling',
        observations: res.observations,
        items: res.report.items,
        wallS: (Date.now() - p0) / 1000,
        regressorHeldOutRmse: res.report.regressorHeldOutRmse,
        thetaPriorSd: res.report.thetaPriorSd,
      };
    }
    const { spec, rerunMethods } = campaignSpecFrom({
      benchmark,
      data: path.join(root, benchmark),
      limit: limits.get(benchmark) ?? o.limit,
      methods: o.methods,
      costBudgets: o.costBudgets,
      latencyBudgets: o.latencyBudgets,
      pool: o.pool,
      concurrency: o.concurrency,
      seed: '0',
      timeFactor: '0',
      ...(o.rerunMethods ? { rerunMethods: o.rerunMethods } : {}),
      json: true,
    });
    const summary = await runCampaign(spec, { json: true, rerunMethods });
    const report = JSON.parse(readFileSync(summary.reportFiles.json, 'utf8')) as Report;
    const dir = path.join(outDir, benchmark);
    mkdirSync(dir, { recursive: true });
    for (const f of [summary.reportFiles.markdown, summary.reportFiles.json, ...summary.reportFiles.charts])
      copyFileSync(f, path.join(dir, path.basename(f)));
    results.push(summarise(benchmark, report, (Date.now() - t0) / 1000, profile));
    campaignCodeVersions.add(report.meta.codeVersion);
    writeFileSync(path.join(outDir, 'evaluation.json'), JSON.stringify({ simulated: results.some((r) => r.simulated), results }, null, 2));
  }
  const info: Record<string, string> = {
    Pool: `\`${o.pool}\`${results.some((r) => r.simulated) ? ' (simulated)' : ''}`,
    Methods: o.methods!,
    'Cost budgets (USD)': o.costBudgets!,
    'Latency budgets (s)': o.latencyBudgets!,
    'Queries per benchmark': results.map((r) => `${r.benchmark} ${r.queries}`).join(', ') + ' (the first N of each test split, or all of it: the seeded 20/30/50 profile/train/test split puts 75 of HumanEval\'s 164 problems in its test split)',
    'Wall time': `${((Date.now() - started) / 60000).toFixed(1)} min on ${os.cpus().length} CPU cores; load average ${load0.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end (the machine is shared)`,
    'Pool profile':
      profileLimit > 0
        ? `profiled per benchmark on its profile split before its campaign (${profileLimit} queries × every backbone, alone as the decision agent): measured output lengths and latency models; abilities: the pool file's as a prior (sd ${results[0]?.profile.thetaPriorSd ?? '–'} logit) updated by a 1PL fit; σ_b: held-out error of the difficulty regressor`
        : "the pool file's (no profiling: --profile-limit 0)",
    'Common random numbers': 'yes: a call\'s outcome depends on (seed, backbone, query, prompt, sample index) only',
    'Command': `npm run evaluate -- ${process.argv.slice(2).join(' ')}`.trim(),
    'Code version': o.rerunMethods
      ? `${gitHead()} for the re-run methods (${o.rerunMethods}); the other methods' runs are kept from the campaigns' first run at ${[...campaignCodeVersions].join(', ')}`
      : gitHead(),
  };
  const charts = [...(await summaryChart(results, 'cost', outDir)), ...(await summaryChart(results, 'latency', outDir))];
  writeFileSync(path.join(outDir, 'evaluation.md'), markdown(results, info) + (charts.length ? `\n![cost](summary-cost.png)\n![latency](summary-latency.png)\n` : ''));
  writeFileSync(path.join(outDir, 'evaluation.json'), JSON.stringify({ simulated: results.some((r) => r.simulated), info, results }, null, 2));
  process.stdout.write(`${path.join(outDir, 'evaluation.md')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`evaluate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
