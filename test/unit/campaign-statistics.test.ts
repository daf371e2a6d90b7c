import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aiq, computeStatistics, pointStatistics, quantileSorted, stat3, trapezoidAuc, type RunOutcome } from '../../core/campaign/statistics';

const close = (a: number, b: number, eps = 1e-12): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≈ ${b}`);

function run(
  method: string,
  budget: number,
  taskId: string,
  correct: boolean | null,
  extra: Partial<RunOutcome> = {},
): RunOutcome {
  return {
    method,
    budgetKind: 'cost',
    budget,
    taskId,
    correct,
    costUsd: budget / 2,
    latencyS: 1,
    deadlineHit: false,
    budgetExhausted: false,
    ...extra,
  };
}

test('trapezoid AUC over the normalised log-budget axis (hand-computed)', () => {
  // x = 0, 0.5, 1: 0.5·(0.2+0.4)/2 + 0.5·(0.4+0.8)/2 = 0.15 + 0.30
  close(trapezoidAuc([1, 10, 100], [0.2, 0.4, 0.8]), 0.45);
  // x = 0, 1/3, 1: (1/3)·0.3 + (2/3)·0.75 = 0.1 + 0.5; order of input does not matter
  close(trapezoidAuc([1000, 1, 10], [0.9, 0, 0.6]), 0.6);
  close(trapezoidAuc([0.003], [0.37]), 0.37);
  close(trapezoidAuc([1e-4, 1e-2], [1, 1]), 1);
  assert.throws(() => trapezoidAuc([1, 1], [0, 1]), /distinct/);
});

test('quantiles interpolate linearly; stats by hand', () => {
  close(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  close(quantileSorted([1, 2, 3, 4], 0.95), 3.85);
  close(quantileSorted([5], 0.95), 5);
  const s = stat3([0.012, 0.002, 0.006, 0.004]);
  close(s.mean, 0.006);
  close(s.p50, 0.005);
  close(s.p95, 0.006 + 0.85 * 0.006);
});

test('point metrics: accuracy, ungraded, violations on the budget axis', () => {
  const rows = [
    run('m', 0.01, 't1', true, { costUsd: 0.002 }),
    run('m', 0.01, 't2', false, { costUsd: 0.004, budgetExhausted: true }),
    run('m', 0.01, 't3', true, { costUsd: 0.006, latencyS: 999 }),
    run('m', 0.01, 't4', null, { costUsd: 0.012, deadlineHit: true }),
  ];
  const p = pointStatistics(rows);
  assert.equal(p.n, 4);
  assert.equal(p.correct, 2);
  assert.equal(p.ungraded, 1);
  close(p.accuracy, 0.5);
  // Only the cost overshoot counts on the cost axis (latency is unlimited there).
  assert.equal(p.violations, 1);
  close(p.violationRate, 0.25);
  assert.equal(p.deadlineHits, 1);
  assert.equal(p.budgetExhausted, 1);
  close(p.cost.p50, 0.005);
  const lat = pointStatistics([{ ...run('m', 2, 't', true), budgetKind: 'latency', latencyS: 2.5, costUsd: 99 }]);
  assert.equal(lat.violations, 1);
  const exact = pointStatistics([{ ...run('m', 2, 't', true), budgetKind: 'latency', latencyS: 2 }]);
  assert.equal(exact.violations, 0);
});

/** Three methods, two budgets, four tasks with chosen correctness. */
function synthetic(): RunOutcome[] {
  const table: Record<string, Record<number, boolean[]>> = {
    chain: { 1: [true, false, false, false], 100: [true, true, false, false] }, // 0.25, 0.50 → AUC 0.375
    star: { 1: [true, true, false, false], 100: [true, true, true, false] }, // 0.50, 0.75 → AUC 0.625
    agentbalance: { 1: [true, true, true, false], 100: [true, true, true, true] }, // 0.75, 1.00 → AUC 0.875
  };
  const rows: RunOutcome[] = [];
  for (const [m, byB] of Object.entries(table)) {
    for (const [b, cs] of Object.entries(byB)) cs.forEach((c, i) => rows.push(run(m, Number(b), `t${i}`, c)));
  }
  return rows;
}

test('curves, AUC and gaps to the best baseline (hand-computed)', () => {
  const m = computeStatistics(synthetic(), { resamples: 200, seed: 's' });
  const auc = Object.fromEntries(m.curves.map((c) => [c.method, c.auc]));
  close(auc.chain!, 0.375);
  close(auc.star!, 0.625);
  close(auc.agentbalance!, 0.875);
  const gap = (method: string, budget: number) => m.gaps.find((g) => g.method === method && g.budget === budget)!;
  assert.equal(gap('agentbalance', 1).bestBaseline, 'star');
  close(gap('agentbalance', 1).gap!, 0.25);
  close(gap('agentbalance', 100).gap!, 0.25);
  // A baseline is compared with the best *other* baseline.
  assert.equal(gap('star', 1).bestBaseline, 'chain');
  close(gap('star', 1).gap!, 0.25);
  close(gap('chain', 100).gap!, -0.25);
  const ag = m.aucGaps.find((g) => g.method === 'agentbalance')!;
  assert.equal(ag.bestBaseline, 'star');
  close(ag.gap!, 0.25);
  assert.ok(ag.gapCi!.lo <= 0.25 && 0.25 <= ag.gapCi!.hi);
  // agentbalance is never better than star on any task, so the paired difference is ≥ 0 in every resample.
  assert.ok(ag.gapCi!.lo >= 0);
  for (const c of m.curves) {
    assert.ok(c.aucCi.lo <= c.auc + 1e-12 && c.auc <= c.aucCi.hi + 1e-12, `${c.method} CI contains the AUC`);
    assert.equal(c.tasks, 4);
  }
  assert.deepEqual(
    m.points.map((p) => p.accuracy),
    [0.25, 0.5, 0.5, 0.75, 0.75, 1],
  );
});

test('bootstrap: deterministic in the seed, degenerate for constant data, narrower with more queries', () => {
  const a = computeStatistics(synthetic(), { resamples: 300, seed: 'x' });
  const b = computeStatistics(synthetic(), { resamples: 300, seed: 'x' });
  assert.deepEqual(a, b);
  const allRight = ['t1', 't2', 't3'].flatMap((t) => [run('m', 1, t, true), run('m', 10, t, true)]);
  const ci = computeStatistics(allRight, { resamples: 100 }).curves[0]!.aucCi;
  assert.deepEqual(ci, { lo: 1, hi: 1 });
  const coin = (n: number): RunOutcome[] =>
    Array.from({ length: n }, (_, i) => [run('m', 1, `t${i}`, i % 2 === 0), run('m', 10, `t${i}`, i % 3 === 0)]).flat();
  const w = (rows: RunOutcome[]) => {
    const c = computeStatistics(rows, { resamples: 400 }).curves[0]!.aucCi;
    return c.hi - c.lo;
  };
  assert.ok(w(coin(400)) < w(coin(20)));
});

test('large campaign metrics stay fast', () => {
  const rows: RunOutcome[] = [];
  for (let m = 0; m < 20; m++)
    for (const b of [1, 2, 4, 8, 16])
      for (let t = 0; t < 200; t++) rows.push(run(`m${m}`, b, `t${t}`, (t * 7 + m + b) % 3 === 0));
  const t0 = performance.now();
  const out = computeStatistics(rows, { resamples: 1000 });
  const ms = performance.now() - t0;
  assert.equal(out.curves.length, 20);
  assert.ok(ms < 10_000, `took ${ms} ms`);
});

test('AIQ: non-decreasing convex hull over a linear spend axis, normalised (hand-computed)', () => {
  // Points (1, .5), (2, .4) dominated, (3, .9); range [1, 5]: hull (1,.5)-(3,.9) then flat .9.
  // Area = 2·(.5+.9)/2 + 2·.9 = 1.4 + 1.8 = 3.2; /4 = 0.8.
  close(aiq([1, 2, 3], [0.5, 0.4, 0.9], 1, 5), 0.8);
  // A point under the chord is not on the hull: (2, .6) lies below (1,.5)-(3,.9) at x=2 (.7).
  close(aiq([1, 2, 3], [0.5, 0.6, 0.9], 1, 5), 0.8);
  // Zero left of the cheapest point: only (3, .9) on [1, 5] → 2·.9/4.
  close(aiq([3], [0.9], 1, 5), 0.45);
});

test('paired differences: identical outcomes give zero with a zero-width interval; plugin-X is paired with X', () => {
  const rows: RunOutcome[] = [];
  for (const b of [1, 10, 100])
    for (let t = 0; t < 20; t++) {
      const c = (t * 7 + b) % 3 !== 0;
      rows.push(run('agentprune', b, `t${t}`, c), run('plugin-agentprune', b, `t${t}`, c), run('chain', b, `t${t}`, t % 2 === 0));
    }
  const m = computeStatistics(rows, { resamples: 200 });
  const pair = m.pairs.find((p) => p.a === 'plugin-agentprune' && p.b === 'agentprune')!;
  assert.equal(pair.aucDiff, 0);
  assert.deepEqual(pair.aucDiffCi, { lo: 0, hi: 0 });
  for (const d of pair.perBudget) assert.deepEqual([d.diff, d.ci.lo, d.ci.hi], [0, 0, 0]);
  const gap = m.gaps.find((g) => g.method === 'chain' && g.budget === 10)!;
  assert.ok(gap.gapCi && gap.gapCi.lo <= gap.gap! && gap.gap! <= gap.gapCi.hi);
  assert.equal(gap.relativeGain, gap.gap! / gap.bestBaselineAccuracy!);
});
