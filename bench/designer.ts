/**
 * Designer benchmark: inference time per query (target < 5 ms), training time and memory, and the
 * surrogate-predicted accuracy of trained vs untrained designer vs the best single agent on a
 * log-spaced budget grid. Writes bench/results/designer.json.
 *
 *   node --import tsx bench/designer.ts [--steps 200] [--queries 200]
 *
 * Quality numbers are *predicted* (the profile's accuracy surrogate), not engine runs: the
 * campaign runs the real engine. Query difficulties are seeded draws from the simulated pool's
 * prior N(0, 1.5) standing in for profiled ones (the pool-file profile has no item difficulties).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBenchmark } from '../activities/datasets';
import { createHighsMatchingSolver } from '../activities/matching-solver';
import { trainDesigner } from '../activities/training';
import { createInitialDesigner, designMas, prepareDesign, runPolicy, type DesignRequest } from '../core/designer/designer';
import { offlineEmbedderFromConfig } from '../core/designer/embed';
import { buildMatchingProblem } from '../core/designer/matching';
import { profileFromPoolFile } from '../core/profiling/pool-profile';
import { Rng } from '../core/random';
import { fallbackDecisionOnly, synthesize } from '../core/designer/synthesis';
import { decodeTopology } from '../core/designer/topology';
import type { TrainedDesigner } from '../core/designer/trained-designer';
import { budgetRefs } from '../core/designer/features';
import type { Budgets } from '../core/mas';
import { BUILTIN_POOLS, DEFAULT_POOL } from '../core/pool-file';
import { decisionRole, rolesFor } from '../core/roles';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function stats(xs: number[]): { mean: number; median: number; p90: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, median: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1]! };
}

/** Optional training overrides for experiments: --penalty raw|synthesized --tol X --reward-mode expected|sampled. */
function trainFlags(): Record<string, unknown> {
  const get = (n: string): string | undefined => {
    const i = process.argv.indexOf(`--${n}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out: Record<string, unknown> = {};
  if (get('penalty')) out.penaltyTarget = get('penalty');
  if (get('target')) out.rewardTarget = get('target');
  if (get('tol')) out.violationTolerance = Number(get('tol'));
  if (get('reward-mode')) out.rewardMode = get('reward-mode');
  return out;
}

const round = (x: number, d = 4): number => Number(x.toFixed(d));

async function main(): Promise<void> {
  const steps = arg('steps', 200);
  const nQueries = arg('queries', 200);
  const pool = BUILTIN_POOLS[DEFAULT_POOL]!;
  const profile = profileFromPoolFile(pool.backbones);
  const bench = await loadBenchmark('gsm8k').catch(() => loadBenchmark('sample-math'));
  const rng = new Rng('bench-designer');
  const items = bench.tasks
    .slice(0, 2 * nQueries)
    .map((t) => ({ text: t.question, domain: 'math' as const, difficulty: 1.5 * rng.normal() }));
  const train = items.slice(0, nQueries);
  const test = items.slice(nQueries);
  const roles = rolesFor('math', 'gsm8k');
  const dec = decisionRole('math', 'gsm8k');

  // --- training -----------------------------------------------------------------------------
  const mem0 = process.memoryUsage();
  let peakRss = mem0.rss;
  let peakHeap = mem0.heapUsed;
  const t0 = performance.now();
  const trained = await trainDesigner(
    {
      profile,
      roles: { math: { roles: [...roles], decisionRole: dec } },
      queries: train.map((q) => ({ ...q })),
      options: { steps, curveEvery: 20, seed: 'bench', ...trainFlags() },
    },
    {
      onProgress: () => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      },
    },
  );
  const trainWallS = (performance.now() - t0) / 1000;
  const mem1 = process.memoryUsage();

  // --- inference timing ---------------------------------------------------------------------
  const solver = await createHighsMatchingSolver();
  const embedder = offlineEmbedderFromConfig(trained.embedder);
  const scale = trained.budgetScale.math!;
  const budgetsFor = (r: Rng): Budgets => ({
    maxCostUsd: r.logUniform(scale.costUsd[0], scale.costUsd[1] / 10),
    maxLatencyS: r.logUniform(scale.latencyS[0], scale.latencyS[1] / 10),
  });
  const request = (q: (typeof test)[number], budgets: Budgets, designer: TrainedDesigner): DesignRequest => ({
    query: q.text,
    domain: 'math',
    budgets,
    designer,
    profile,
    roles,
    decisionRole: dec,
    embedder,
    solver,
    difficulty: q.difficulty,
  });
  const timingRng = new Rng('timing');
  const timingCases = test.map((q) => ({ q, budgets: budgetsFor(timingRng) }));
  for (const c of timingCases.slice(0, 30)) designMas(request(c.q, c.budgets, trained)); // warm-up (JIT, tokenizer)
  const total: number[] = [];
  const prepT: number[] = [];
  const mipT: number[] = [];
  const policyT: number[] = [];
  const synthT: number[] = [];
  for (const c of timingCases) {
    const req = request(c.q, c.budgets, trained);
    let t = performance.now();
    designMas(req);
    total.push(performance.now() - t);
    t = performance.now();
    const prep = prepareDesign(req);
    prepT.push(performance.now() - t);
    const refs = budgetRefs(c.budgets, scale);
    const problem = buildMatchingProblem({
      slots: prep.slots,
      ctx: prep.ctx,
      candidates: prep.selection.chosen.map((id) => profile.backbones.find((b) => b.id === id)!),
      budgets: c.budgets,
      refs,
      workerUtility: trained.hyper.workerUtility,
      lambdaC: trained.hyper.matchLambdaC,
      lambdaL: trained.hyper.matchLambdaL,
    });
    t = performance.now();
    solver(problem);
    mipT.push(performance.now() - t);
    t = performance.now();
    const f = runPolicy(trained, prep);
    policyT.push(performance.now() - t);
    t = performance.now();
    const g = decodeTopology(prep.base, f, trained.hyper.gateThreshold, trained.hyper.edgeThreshold);
    synthesize({ graph: g, ctx: prep.ctx, budgets: c.budgets, gate: f.gate, edge: f.edge, pool: prep.pool });
    fallbackDecisionOnly({ graph: prep.base, ctx: prep.ctx, budgets: c.budgets, pool: prep.pool });
    synthT.push(performance.now() - t);
  }

  // --- surrogate quality on a log-spaced budget grid -----------------------------------------
  const untrained: TrainedDesigner = {
    ...createInitialDesigner({ profile, embedder: trained.embedder, seed: 'bench/init' }),
    budgetScale: trained.budgetScale,
  };
  const grid = (lo: number, hi: number, k: number): number[] =>
    Array.from({ length: k }, (_, i) => Math.exp(Math.log(lo) + (i / (k - 1)) * (Math.log(hi) - Math.log(lo))));
  const costGrid = grid(scale.costUsd[0] * 2, scale.costUsd[1] / 10, 6);
  const latGrid = grid(scale.latencyS[0] * 2, scale.latencyS[1] / 10, 6);
  const evalSet = test.slice(0, 60);
  const curve = (axis: 'cost' | 'latency', d: TrainedDesigner | 'single') =>
    (axis === 'cost' ? costGrid : latGrid).map((B) => {
      const budgets: Budgets = axis === 'cost' ? { maxCostUsd: B } : { maxLatencyS: B };
      let acc = 0;
      let agents = 0;
      let guard = 0;
      for (const q of evalSet) {
        if (d === 'single') {
          const prep = prepareDesign(request(q, budgets, trained));
          const fb = fallbackDecisionOnly({ graph: prep.base, ctx: prep.ctx, budgets, pool: prep.pool });
          acc += fb.feasible ? fb.prediction.accuracy : 0;
          agents += 1;
        } else {
          const r = designMas(request(q, budgets, d));
          acc += r.feasible ? r.predicted.accuracy : 0;
          agents += r.spec.agents.length;
          if (r.trace.synthesis.some((a) => a.reason === 'dominated')) guard++;
        }
      }
      const n = evalSet.length;
      return { budget: B, accuracy: round(acc / n), agents: round(agents / n, 2), guardRate: round(guard / n, 2) };
    });
  const auc = (pts: { accuracy: number }[]): number =>
    round(pts.slice(1).reduce((s, p, i) => s + (p.accuracy + pts[i]!.accuracy) / 2, 0) / (pts.length - 1));
  const quality: Record<string, unknown> = {};
  for (const axis of ['cost', 'latency'] as const) {
    const t = curve(axis, trained);
    const u = curve(axis, untrained);
    const s = curve(axis, 'single');
    quality[axis] = { trained: t, untrained: u, bestSingle: s, auc: { trained: auc(t), untrained: auc(u), bestSingle: auc(s) } };
  }

  const result = {
    kind: 'agentbalance.bench.designer',
    simulated: true,
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg: os.loadavg().map((x) => round(x, 2)),
    },
    setup: {
      pool: DEFAULT_POOL,
      benchmark: bench.sources[0] ?? 'gsm8k',
      trainQueries: train.length,
      testQueries: test.length,
      roles: roles.length + 1,
      hyper: trained.hyper,
    },
    inferenceMs: {
      targetMs: 5,
      designMas: Object.fromEntries(Object.entries(stats(total)).map(([k, v]) => [k, round(v, 3)])),
      stages: {
        prepare_selection_matching_features: round(stats(prepT).median, 3),
        matchingMipOnly: Object.fromEntries(Object.entries(stats(mipT)).map(([k, v]) => [k, round(v, 3)])),
        policyForward: round(stats(policyT).median, 3),
        decodeSynthesisGuard: round(stats(synthT).median, 3),
      },
      calls: total.length,
    },
    training: {
      steps,
      batch: trained.training!.batch,
      samplesPerEpisode: trained.training!.samplesPerEpisode,
      rewardTarget: trained.training!.rewardTarget,
      penaltyTarget: trained.training!.penaltyTarget,
      rewardMode: trained.training!.rewardMode,
      violationTolerance: trained.training!.violationTolerance,
      wallS: round(trainWallS, 2),
      msPerStep: round((trainWallS * 1000) / steps, 1),
      memoryMB: {
        rssBefore: round(mem0.rss / 2 ** 20, 1),
        rssAfter: round(mem1.rss / 2 ** 20, 1),
        rssPeak: round(peakRss / 2 ** 20, 1),
        heapUsedPeak: round(peakHeap / 2 ** 20, 1),
      },
      parameters: Object.values(trained.weights).reduce((s, w) => s + w.data.length, 0),
      curve: trained.curve.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, round(v, 4)]))),
      lambdas: trained.lambdas,
    },
    predictedQuality: quality,
  };
  const out = path.join(__dirname, 'results', 'designer.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const inf = result.inferenceMs.designMas;
  console.log(
    `designMas: median ${inf.median} ms, p90 ${inf.p90} ms, mean ${inf.mean} ms (target < 5 ms); MIP median ${result.inferenceMs.stages.matchingMipOnly.median} ms`,
  );
  console.log(
    `training: ${steps} steps in ${result.training.wallS} s (${result.training.msPerStep} ms/step), peak RSS ${result.training.memoryMB.rssPeak} MB`,
  );
  for (const axis of ['cost', 'latency'] as const)
    console.log(`${axis}-AUC (predicted accuracy):`, (quality[axis] as { auc: unknown }).auc);
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
