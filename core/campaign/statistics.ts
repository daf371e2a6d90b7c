/**
 * Campaign statistics (docs/METHOD.md §4): per (method, budget kind, budget) accuracy, cost and
 * latency statistics and budget violations; per (method, budget kind) the AUC of the
 * accuracy-versus-budget curve over the normalised log-budget axis with a 95 % bootstrap interval
 * (queries resampled with replacement, paired across budgets and methods); and the gap to the best
 * baseline at each matched budget and in AUC, with paired bootstrap intervals of the differences;
 * RouterBench's AIQ next to the AUC. Pure and deterministic (seeded resampling).
 *
 * Two summaries of a curve:
 *   - AUC (this project's metric): trapezoid area under accuracy over the normalised log-budget
 *     axis (the budgets asked for), in [0, 1];
 *   - AIQ (RouterBench, Hu et al. 2024): area under the non-decreasing convex hull of the
 *     (mean spend, accuracy) points over a linear spend axis spanning every method's points of the
 *     campaign, normalised to [0, 1]; left of a method's cheapest point it scores 0, right of its
 *     dearest point it keeps its best accuracy.
 */
import { Rng } from '../random';
import type { BudgetKind } from './spec';

/** The part of a stored run the statistics read. */
export interface RunOutcome {
  method: string;
  budgetKind: BudgetKind;
  budget: number;
  taskId: string;
  /** null: not graded (counts as wrong in accuracy, reported as `ungraded`). */
  correct: boolean | null;
  costUsd: number;
  latencyS: number;
  deadlineHit: boolean;
  budgetExhausted: boolean;
  /** The run failed (stored with its error): counts as wrong, and as `failed`; not in cost/latency stats. */
  failed?: boolean;
}

export interface Stat3 {
  mean: number;
  p50: number;
  p95: number;
}

export interface PointStatistics {
  method: string;
  budgetKind: BudgetKind;
  budget: number;
  n: number;
  correct: number;
  ungraded: number;
  /** Runs that failed (error stored instead of a result). */
  failed: number;
  accuracy: number;
  cost: Stat3;
  latency: Stat3;
  /** Runs whose spend on the budget's axis exceeds the budget (cost > budget on the cost axis, latency > budget on the latency axis). */
  violations: number;
  violationRate: number;
  deadlineHits: number;
  budgetExhausted: number;
}

interface Interval {
  lo: number;
  hi: number;
}

export interface CurveStatistics {
  method: string;
  budgetKind: BudgetKind;
  /** Ascending budgets and the accuracy at each. */
  budgets: number[];
  accuracies: number[];
  auc: number;
  aucCi: Interval;
  /** RouterBench AIQ over the campaign's linear spend range (see the header). */
  aiq: number;
  /** Mean spend (USD or s) at each budget: the AIQ's x coordinates. */
  spends: number[];
  /** Distinct queries behind the curve. */
  tasks: number;
}

export interface GapRow {
  method: string;
  budgetKind: BudgetKind;
  budget: number;
  accuracy: number;
  /** The most accurate baseline other than `method` at this budget; null when there is none. */
  bestBaseline: string | null;
  bestBaselineAccuracy: number | null;
  /** accuracy − bestBaselineAccuracy. */
  gap: number | null;
  /** Paired bootstrap interval of that difference (same queries resampled for both). */
  gapCi: Interval | null;
  /** (accuracy − best)/best: the paper's relative gain at a matched budget. */
  relativeGain: number | null;
}

/** A paired comparison of two methods on one axis: AUC difference and per-budget differences. */
export interface PairedDiff {
  a: string;
  b: string;
  budgetKind: BudgetKind;
  aucDiff: number;
  aucDiffCi: Interval;
  perBudget: { budget: number; diff: number; ci: Interval }[];
}

export interface AucGap {
  method: string;
  budgetKind: BudgetKind;
  /** The baseline (other than `method`) with the highest AUC on this axis. */
  bestBaseline: string | null;
  gap: number | null;
  /** Paired bootstrap interval of the AUC difference. */
  gapCi: Interval | null;
}

export interface StatisticsOptions {
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling (default '0'). */
  seed?: string;
  /** Interval coverage (default 0.95). */
  confidence?: number;
  /** Which methods count as baselines for the gaps (default: all but `agentbalance` and `plugin-*`). */
  isBaseline?: (method: string) => boolean;
  /** Pairs (a, b) whose paired differences a − b to report (default: plugin-X vs X, agentbalance vs every baseline). */
  pairs?: readonly (readonly [string, string])[];
}

export interface CampaignStatistics {
  points: PointStatistics[];
  curves: CurveStatistics[];
  gaps: GapRow[];
  aucGaps: AucGap[];
  pairs: PairedDiff[];
  bootstrap: { resamples: number; seed: string; confidence: number };
}

const DEFAULT_RESAMPLES = 1000;
/** Relative tolerance of the violation check (floating-point noise only). */
const VIOLATION_EPS = 1e-9;

function defaultIsBaseline(method: string): boolean {
  return method !== 'agentbalance' && !method.startsWith('plugin-');
}

/** Quantile of sorted values by linear interpolation between order statistics (numpy's default, type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function stat3(values: readonly number[]): Stat3 {
  if (values.length === 0) return { mean: NaN, p50: NaN, p95: NaN };
  const s = [...values].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: quantileSorted(s, 0.5), p95: quantileSorted(s, 0.95) };
}

/**
 * Trapezoid area under accuracy over the normalised log-budget axis:
 * x = (log b − log b_min)/(log b_max − log b_min) ∈ [0, 1]. One budget: its accuracy.
 * Budgets need not be sorted; they must be positive and distinct.
 */
export function trapezoidAuc(budgets: readonly number[], accuracies: readonly number[]): number {
  if (budgets.length !== accuracies.length) throw new Error('trapezoidAuc: length mismatch');
  if (budgets.length === 0) return NaN;
  const pts = budgets.map((b, i) => [b, accuracies[i]!] as const).sort((a, b) => a[0] - b[0]);
  if (pts.length === 1) return pts[0]![1];
  const lo = Math.log(pts[0]![0]);
  const span = Math.log(pts[pts.length - 1]![0]) - lo;
  if (!(span > 0)) throw new Error('trapezoidAuc: budgets must be distinct and positive');
  let area = 0;
  for (let i = 1; i < pts.length; i++) {
    const x0 = (Math.log(pts[i - 1]![0]) - lo) / span;
    const x1 = (Math.log(pts[i]![0]) - lo) / span;
    area += ((x1 - x0) * (pts[i - 1]![1] + pts[i]![1])) / 2;
  }
  return area;
}

/**
 * RouterBench's AIQ of one method: the area under the non-decreasing upper convex hull of its
 * (spend, accuracy) points over [lo, hi] on a linear axis, divided by hi − lo. Zero left of the
 * cheapest point; the hull's last value right of the dearest one.
 */
export function aiq(spends: readonly number[], accuracies: readonly number[], lo: number, hi: number): number {
  const pts = spends
    .map((c, i) => [c, accuracies[i]!] as const)
    .filter(([c, a]) => Number.isFinite(c) && Number.isFinite(a))
    .sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  if (pts.length === 0 || !(hi > lo)) return pts.length ? Math.max(...pts.map((p) => p[1])) : NaN;
  // Non-decreasing: a point no better than a cheaper one is dominated.
  const mono: (readonly [number, number])[] = [];
  for (const p of pts) if (mono.length === 0 || p[1] > mono[mono.length - 1]![1]) mono.push(p);
  // Upper convex hull (monotone chain) of the non-dominated points.
  const hull: (readonly [number, number])[] = [];
  for (const p of mono) {
    while (hull.length >= 2) {
      const [x1, y1] = hull[hull.length - 2]!;
      const [x2, y2] = hull[hull.length - 1]!;
      if ((x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0) hull.pop();
      else break;
    }
    hull.push(p);
  }
  const clamp = (x: number): number => Math.min(hi, Math.max(lo, x));
  let area = 0;
  for (let i = 1; i < hull.length; i++) {
    const [x0, y0] = hull[i - 1]!;
    const [x1, y1] = hull[i]!;
    const a = clamp(x0);
    const b = clamp(x1);
    if (b <= a) continue;
    const at = (x: number): number => y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    area += ((b - a) * (at(a) + at(b))) / 2;
  }
  const last = hull[hull.length - 1]!;
  area += (hi - clamp(last[0])) * last[1];
  return area / (hi - lo);
}

function violates(r: RunOutcome): boolean {
  const used = r.budgetKind === 'cost' ? r.costUsd : r.latencyS;
  return used > r.budget * (1 + VIOLATION_EPS);
}

export function pointStatistics(rows: readonly RunOutcome[]): PointStatistics {
  const r0 = rows[0];
  if (!r0) throw new Error('pointStatistics: no rows');
  const n = rows.length;
  const correct = rows.filter((r) => r.correct === true).length;
  const violations = rows.filter(violates).length;
  return {
    method: r0.method,
    budgetKind: r0.budgetKind,
    budget: r0.budget,
    n,
    correct,
    ungraded: rows.filter((r) => r.correct === null).length,
    failed: rows.filter((r) => r.failed === true).length,
    accuracy: correct / n,
    cost: stat3(rows.filter((r) => r.failed !== true).map((r) => r.costUsd)),
    latency: stat3(rows.filter((r) => r.failed !== true).map((r) => r.latencyS)),
    violations,
    violationRate: violations / n,
    deadlineHits: rows.filter((r) => r.deadlineHit).length,
    budgetExhausted: rows.filter((r) => r.budgetExhausted).length,
  };
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The best baseline (other than `method`) by `score`; ties broken by name. */
function bestOther(
  method: string,
  candidates: readonly string[],
  score: (m: string) => number | undefined,
): { name: string; value: number } | null {
  let best: { name: string; value: number } | null = null;
  for (const c of candidates) {
    if (c === method) continue;
    const v = score(c);
    if (v === undefined || Number.isNaN(v)) continue;
    if (!best || v > best.value || (v === best.value && byName(c, best.name) < 0)) best = { name: c, value: v };
  }
  return best;
}

/**
 * All statistics of a campaign's runs. Methods appear in first-seen order of `rows`; budgets ascending.
 * If a run key appears twice (it should not: the store upserts), the last row wins.
 */
export function computeStatistics(allRows: readonly RunOutcome[], opts: StatisticsOptions = {}): CampaignStatistics {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const seed = opts.seed ?? '0';
  const confidence = opts.confidence ?? 0.95;
  const isBaseline = opts.isBaseline ?? defaultIsBaseline;
  const dedup = new Map<string, RunOutcome>();
  for (const r of allRows) dedup.set(`${r.method}|${r.budgetKind}|${r.budget}|${r.taskId}`, r);
  const rows = [...dedup.values()];
  const methods = [...new Set(allRows.map((r) => r.method))];
  const baselines = methods.filter(isBaseline);

  const points: PointStatistics[] = [];
  const curves: CurveStatistics[] = [];
  const gaps: GapRow[] = [];
  const aucGaps: AucGap[] = [];
  const pairs: PairedDiff[] = [];
  const alpha = (1 - confidence) / 2;

  for (const kind of ['cost', 'latency'] as const) {
    const kindRows = rows.filter((r) => r.budgetKind === kind);
    if (kindRows.length === 0) continue;
    const tasks = [...new Set(kindRows.map((r) => r.taskId))].sort(byName);
    const taskIdx = new Map(tasks.map((t, i) => [t, i]));
    const kindMethods = methods.filter((m) => kindRows.some((r) => r.method === m));

    // Per method: budgets ascending and a correctness matrix [budget][task] (1, 0, or -1 = missing).
    const perMethod = new Map<string, { budgets: number[]; acc: number[]; matrix: Int8Array[]; tasks: number }>();
    for (const m of kindMethods) {
      const mRows = kindRows.filter((r) => r.method === m);
      const byBudget = groupBy(mRows, (r) => String(r.budget));
      const budgets = [...new Set(mRows.map((r) => r.budget))].sort((a, b) => a - b);
      const matrix: Int8Array[] = [];
      const acc: number[] = [];
      for (const b of budgets) {
        const g = byBudget.get(String(b))!;
        const p = pointStatistics(g);
        points.push(p);
        acc.push(p.accuracy);
        const row = new Int8Array(tasks.length).fill(-1);
        for (const r of g) row[taskIdx.get(r.taskId)!] = r.correct === true ? 1 : 0;
        matrix.push(row);
      }
      perMethod.set(m, { budgets, acc, matrix, tasks: new Set(mRows.map((r) => r.taskId)).size });
    }

    // Paired bootstrap: one multiset of queries per resample, shared by every method and budget.
    const rng = new Rng(`${seed}|bootstrap|${kind}`);
    const boot = new Map<string, Float64Array>(kindMethods.map((m) => [m, new Float64Array(resamples)]));
    const bootAcc = new Map<string, Float64Array[]>(
      kindMethods.map((m) => [m, perMethod.get(m)!.budgets.map(() => new Float64Array(resamples))]),
    );
    const w = new Float64Array(tasks.length);
    for (let s = 0; s < resamples; s++) {
      w.fill(0);
      for (let i = 0; i < tasks.length; i++) w[rng.int(tasks.length)]! += 1;
      for (const m of kindMethods) {
        const pm = perMethod.get(m)!;
        const accs = pm.matrix.map((row, j) => {
          let num = 0;
          let den = 0;
          for (let t = 0; t < row.length; t++) {
            const c = row[t]!;
            if (c < 0) continue;
            num += w[t]! * c;
            den += w[t]!;
          }
          return den > 0 ? num / den : pm.acc[j]!;
        });
        accs.forEach((a, j) => (bootAcc.get(m)![j]![s] = a));
        boot.get(m)![s] = trapezoidAuc(pm.budgets, accs);
      }
    }
    const interval = (xs: Float64Array): Interval => {
      const sorted = Array.from(xs).sort((a, b) => a - b);
      return { lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha) };
    };

    const spendOf = (m: string): number[] =>
      perMethod.get(m)!.budgets.map((b) => {
        const p = points.find((x) => x.method === m && x.budgetKind === kind && x.budget === b)!;
        return kind === 'cost' ? p.cost.mean : p.latency.mean;
      });
    const allSpends = kindMethods.flatMap(spendOf).filter((x) => Number.isFinite(x));
    const spendLo = Math.min(...allSpends);
    const spendHi = Math.max(...allSpends);
    const aucOf = new Map<string, number>();
    for (const m of kindMethods) {
      const pm = perMethod.get(m)!;
      const auc = trapezoidAuc(pm.budgets, pm.acc);
      const spends = spendOf(m);
      aucOf.set(m, auc);
      curves.push({
        method: m,
        budgetKind: kind,
        budgets: pm.budgets,
        accuracies: pm.acc,
        auc,
        aucCi: resamples > 0 ? interval(boot.get(m)!) : { lo: NaN, hi: NaN },
        aiq: aiq(spends, pm.acc, spendLo, spendHi),
        spends,
        tasks: pm.tasks,
      });
    }

    const kindBaselines = baselines.filter((b) => perMethod.has(b));
    for (const m of kindMethods) {
      const pm = perMethod.get(m)!;
      pm.budgets.forEach((b, j) => {
        const best = bestOther(m, kindBaselines, (c) => {
          const pc = perMethod.get(c)!;
          const k = pc.budgets.indexOf(b);
          return k >= 0 ? pc.acc[k] : undefined;
        });
        let gapCi: Interval | null = null;
        if (best && resamples > 0) {
          const mine = bootAcc.get(m)![j]!;
          const theirs = bootAcc.get(best.name)![perMethod.get(best.name)!.budgets.indexOf(b)]!;
          gapCi = interval(mine.map((x, i) => x - theirs[i]!));
        }
        gaps.push({
          method: m,
          budgetKind: kind,
          budget: b,
          accuracy: pm.acc[j]!,
          bestBaseline: best?.name ?? null,
          bestBaselineAccuracy: best?.value ?? null,
          gap: best ? pm.acc[j]! - best.value : null,
          gapCi,
          relativeGain: best && best.value > 0 ? (pm.acc[j]! - best.value) / best.value : null,
        });
      });
      const bestAuc = bestOther(m, kindBaselines, (c) => aucOf.get(c));
      let gapCi: Interval | null = null;
      if (bestAuc && resamples > 0) {
        const a = boot.get(m)!;
        const c = boot.get(bestAuc.name)!;
        gapCi = interval(a.map((x, i) => x - c[i]!));
      }
      aucGaps.push({
        method: m,
        budgetKind: kind,
        bestBaseline: bestAuc?.name ?? null,
        gap: bestAuc ? aucOf.get(m)! - bestAuc.value : null,
        gapCi,
      });
    }

    const wanted =
      opts.pairs ??
      [
        ...kindMethods.filter((m) => m.startsWith('plugin-')).map((m) => [m, m.slice('plugin-'.length)] as const),
        ...(kindMethods.includes('agentbalance') ? kindBaselines.map((c) => ['agentbalance', c] as const) : []),
      ];
    for (const [a, b] of wanted) {
      const pa = perMethod.get(a);
      const pb = perMethod.get(b);
      if (!pa || !pb || resamples === 0) continue;
      const perBudget = pa.budgets.flatMap((budget, j) => {
        const k = pb.budgets.indexOf(budget);
        if (k < 0) return [];
        const x = bootAcc.get(a)![j]!;
        const y = bootAcc.get(b)![k]!;
        return [{ budget, diff: pa.acc[j]! - pb.acc[k]!, ci: interval(x.map((v, i) => v - y[i]!)) }];
      });
      const x = boot.get(a)!;
      const y = boot.get(b)!;
      pairs.push({
        a,
        b,
        budgetKind: kind,
        aucDiff: aucOf.get(a)! - aucOf.get(b)!,
        aucDiffCi: interval(x.map((v, i) => v - y[i]!)),
        perBudget,
      });
    }
  }
  return { points, curves, gaps, aucGaps, pairs, bootstrap: { resamples, seed, confidence } };
}
