import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { createInitialDesigner, designMas, designerWeights, prepareDesign, runPolicy } from '../../core/designer/designer';
import { HashedNgramEmbedder } from '../../core/designer/embed';
import { profileFromPoolFile } from '../../core/profiling/pool-profile';
import { predictMas } from '../../core/designer/predict';
import { Rng } from '../../core/random';
import { decodeTopology, topologyForward } from '../../core/designer/topology';
import { synthesize } from '../../core/designer/synthesis';
import { repairSinks, type DesignGraph } from '../../core/designer/predict';
import { MasSpecSchema, type Budgets, type MasSpec } from '../../core/mas';
import { CALL_OVERHEAD_TOKENS, MESSAGE_OVERHEAD_TOKENS, callCostUsd, callLatencyS, meanOutputTokens } from '../../core/estimate';
import { countTokens } from '../../core/tokens';
import { MATH_ROLES, ROLES_BY_DOMAIN, randomPool, smallPool } from './designer-fixtures';
import type { Domain } from '../../core/domain';

const embedder = new HashedNgramEmbedder({ dim: 64 });

function assertValidDag(spec: MasSpec): void {
  MasSpecSchema.parse(spec);
  const ids = spec.agents.map((a) => a.id);
  assert.equal(new Set(ids).size, ids.length, 'unique agent ids');
  assert.ok(ids.includes(spec.decision), 'decision agent present');
  for (const [u, v] of spec.edges) assert.ok(ids.includes(u) && ids.includes(v) && u !== v);
  // Kahn: acyclic.
  const indeg = new Map(ids.map((id) => [id, 0]));
  for (const [, v] of spec.edges) indeg.set(v, indeg.get(v)! + 1);
  const queue = ids.filter((id) => indeg.get(id) === 0);
  let seen = 0;
  while (queue.length) {
    const u = queue.pop()!;
    seen++;
    for (const [a, b] of spec.edges)
      if (a === u) {
        indeg.set(b, indeg.get(b)! - 1);
        if (indeg.get(b) === 0) queue.push(b);
      }
  }
  assert.equal(seen, ids.length, 'acyclic');
  // Every agent reaches the decision agent; the decision agent has no successors.
  assert.ok(!spec.edges.some(([u]) => u === spec.decision));
  const reaches = (u: string, seen2 = new Set<string>()): boolean =>
    u === spec.decision || spec.edges.some(([a, b]) => a === u && !seen2.has(b) && (seen2.add(b), reaches(b, seen2)));
  for (const id of ids) assert.ok(reaches(id), `${id} reaches the decision agent`);
}

/** Cost and latency of a spec recomputed independently from the definitions of docs/METHOD.md §0. */
function independentCostLatency(
  spec: MasSpec,
  pool: ReturnType<typeof profileFromPoolFile>,
  domain: Domain,
  query: string,
  factor: Record<string, number>,
): { cost: number; latency: number } {
  const roles = ROLES_BY_DOMAIN[domain];
  const order = spec.agents.map((a) => a.id); // the designer emits agents in topological (role) order
  const out = new Map<string, number>();
  const finish = new Map<string, number>();
  let cost = 0;
  let latency = 0;
  for (const id of order) {
    const a = spec.agents.find((x) => x.id === id)!;
    const b = pool.backbones.find((x) => x.id === a.backbone)!;
    const preds = spec.edges.filter(([, v]) => v === id).map(([u]) => u);
    const nIn =
      countTokens(roles.find((r) => r.id === a.role)!.prompt) +
      countTokens(query) +
      CALL_OVERHEAD_TOKENS +
      preds.reduce((s, u) => s + out.get(u)! + MESSAGE_OVERHEAD_TOKENS, 0);
    const nOut = meanOutputTokens(b, domain) * (factor[a.role] ?? 1);
    out.set(id, nOut);
    cost += callCostUsd(b, nIn, nOut);
    const f = Math.max(0, ...preds.map((u) => finish.get(u)!)) + callLatencyS(b.latency, nIn, nOut);
    finish.set(id, f);
    latency = Math.max(latency, f);
  }
  return { cost, latency };
}

test('designMas meets both budgets whenever the decision agent alone fits; output is a valid DAG', async (t) => {
  const solver = await createHighsMatchingSolver();
  const queries = [
    'What is 17 * 23?',
    'A shop sells 3 apples for $2. How much do 12 apples cost?',
    'Which option is a prime number? (A) 21 (B) 23 (C) 25 (D) 27',
    'def add(a, b): return the sum',
  ];
  let feasibleCases = 0;
  let multiAgent = 0;
  let synthesised = 0;
  fc.assert(
    fc.property(
      fc.record({
        poolSeed: fc.integer(),
        poolSize: fc.integer({ min: 1, max: 8 }),
        weightSeed: fc.integer(),
        gateBias: fc.double({ min: -3, max: 4, noNaN: true }),
        edgeBias: fc.double({ min: -3, max: 4, noNaN: true }),
        domain: fc.constantFrom<Domain>('math', 'knowledge', 'code'),
        query: fc.constantFrom(...queries),
        cost: fc.option(fc.double({ min: Math.log(1e-6), max: Math.log(1), noNaN: true }), { nil: undefined }),
        lat: fc.option(fc.double({ min: Math.log(0.1), max: Math.log(300), noNaN: true }), { nil: undefined }),
        difficulty: fc.double({ min: -3, max: 3, noNaN: true }),
        terseDecision: fc.boolean(),
      }),
      (c) => {
        const pool = randomPool(new Rng(c.poolSeed), c.poolSize);
        const profile = profileFromPoolFile(pool);
        const base = createInitialDesigner({
          profile,
          embedder: { kind: 'hashed-ngram', dim: 64 },
          seed: String(c.weightSeed),
          hyper: { selectionK: 2 },
        });
        const designer = {
          ...base,
          weights: { ...base.weights, gateb: { shape: [1], data: [c.gateBias] }, edgeb: { shape: [1], data: [c.edgeBias] } },
        };
        const budgets: Budgets = {};
        if (c.cost !== undefined) budgets.maxCostUsd = Math.exp(c.cost);
        if (c.lat !== undefined) budgets.maxLatencyS = Math.exp(c.lat);
        const factor: Record<string, number> = c.terseDecision ? { decision: 0.6 } : {};
        const req = {
          query: c.query,
          domain: c.domain,
          budgets,
          designer,
          profile,
          roles: ROLES_BY_DOMAIN[c.domain],
          decisionRole: 'decision',
          embedder,
          solver,
          difficulty: c.difficulty,
          roleOutputFactor: factor,
        };
        const res = designMas(req);
        assertValidDag(res.spec);
        // Is the input feasible: does the decision agent alone fit on some backbone?
        const prep = prepareDesign(req);
        const n = prep.slots.length;
        let bestAlone = -1;
        for (const b of profile.backbones) {
          const p = predictMas(
            {
              slots: prep.slots,
              active: prep.slots.map((_, v) => v === n - 1),
              backbone: prep.slots.map((_, v) => (v === n - 1 ? b : null)),
              adj: prep.slots.map(() => new Array(n).fill(false)),
            },
            prep.ctx,
          );
          const ok =
            (budgets.maxCostUsd === undefined || p.costUsd <= budgets.maxCostUsd) &&
            (budgets.maxLatencyS === undefined || p.latencyS <= budgets.maxLatencyS);
          if (ok) bestAlone = Math.max(bestAlone, p.accuracy);
        }
        const fits = bestAlone >= 0;
        // Never predicted worse than the best single agent that fits (dominance guard).
        if (fits)
          assert.ok(res.predicted.accuracy >= bestAlone - 1e-12, `accuracy ${res.predicted.accuracy} < single ${bestAlone}`);
        assert.equal(res.feasible, fits);
        const indep = independentCostLatency(res.spec, profile, c.domain, c.query, factor);
        assert.ok(
          Math.abs(indep.cost - res.predicted.costUsd) <= 1e-12 + 1e-9 * indep.cost,
          `cost ${indep.cost} vs ${res.predicted.costUsd}`,
        );
        assert.ok(Math.abs(indep.latency - res.predicted.latencyS) <= 1e-9 * (1 + indep.latency), 'latency');
        if (fits) {
          feasibleCases++;
          if (res.spec.agents.length > 1) multiAgent++;
          if (res.trace.synthesis.some((a) => a.kind !== 'fallback')) synthesised++;
          if (budgets.maxCostUsd !== undefined)
            assert.ok(
              res.predicted.costUsd <= budgets.maxCostUsd * (1 + 1e-12),
              `Ĉ ${res.predicted.costUsd} > ${budgets.maxCostUsd}`,
            );
          if (budgets.maxLatencyS !== undefined)
            assert.ok(
              res.predicted.latencyS <= budgets.maxLatencyS * (1 + 1e-12),
              `L̂ ${res.predicted.latencyS} > ${budgets.maxLatencyS}`,
            );
        } else {
          assert.equal(res.spec.agents.length, 1, 'minimal MAS when infeasible');
        }
      },
    ),
    { numRuns: 1000, seed: 11 },
  );
  assert.ok(feasibleCases > 300, `feasible cases exercised: ${feasibleCases}`);
  assert.ok(multiAgent > 50, `multi-agent designs exercised: ${multiAgent}`);
  t.diagnostic(`feasible ${feasibleCases}, multi-agent ${multiAgent}, synthesised ${synthesised}`);
});

test('pure forward pass: gates in (0,1), decision always on, edges only forward', () => {
  const profile = profileFromPoolFile(smallPool());
  const designer = createInitialDesigner({ profile, embedder: { kind: 'hashed-ngram', dim: 64 }, seed: 'fw' });
  const prep = prepareDesign({
    query: 'How many legs do 3 spiders have?',
    domain: 'math',
    budgets: { maxCostUsd: 0.01 },
    designer,
    profile,
    roles: MATH_ROLES,
    decisionRole: 'decision',
    embedder,
    solver: () => ({
      status: 'optimal',
      assignment: [0, 0, 0, 0, 0],
      objective: 0,
      costUsd: 0,
      latencyProxyS: 0,
      solver: 'fixed',
    }),
  });
  const f = runPolicy(designer, prep);
  const n = prep.slots.length;
  assert.equal(f.gate[n - 1], 1);
  for (let v = 0; v < n - 1; v++) assert.ok(f.gate[v]! > 0 && f.gate[v]! < 1);
  for (let u = 0; u < n; u++) for (let v = 0; v <= u; v++) assert.equal(f.edge[u]![v], 0);
  // Deterministic.
  assert.deepEqual(topologyForward(designerWeights(designer), prep.nodeInputs, prep.taskInput, prep.candidate, 2), f);
  const g = decodeTopology(prep.base, f, 0, 0); // everything on → complete forward DAG
  assert.ok(g.active.every(Boolean));
});

test('synthesis alone: random dense DAGs are cut down to fit whenever the decision agent alone fits', () => {
  let acted = 0;
  let feasibleCases = 0;
  fc.assert(
    fc.property(
      fc.record({
        seed: fc.integer(),
        n: fc.integer({ min: 2, max: 7 }),
        poolSize: fc.integer({ min: 1, max: 8 }),
        density: fc.double({ min: 0, max: 1, noNaN: true }),
        costFrac: fc.option(fc.double({ min: 0.01, max: 1.5, noNaN: true }), { nil: undefined }),
        latFrac: fc.option(fc.double({ min: 0.01, max: 1.5, noNaN: true }), { nil: undefined }),
      }),
      (c) => {
        const rng = new Rng(c.seed);
        const profile = profileFromPoolFile(randomPool(rng, c.poolSize));
        const pool = profile.backbones;
        const slots = Array.from({ length: c.n }, (_, v) => ({
          role: `r${v}`,
          systemTokens: 10 + rng.int(60),
          isDecision: v === c.n - 1,
        }));
        const g: DesignGraph = {
          slots,
          active: slots.map((_, v) => v === c.n - 1 || rng.next() < 0.8),
          backbone: slots.map(() => pool[rng.int(pool.length)]!),
          adj: slots.map(() => new Array<boolean>(c.n).fill(false)),
        };
        for (let u = 0; u < c.n; u++)
          for (let v = u + 1; v < c.n; v++) g.adj[u]![v] = !!(g.active[u] && g.active[v] && rng.next() < c.density);
        repairSinks(g);
        const ctx = {
          domain: 'math' as const,
          difficulty: rng.normal(),
          queryTokens: 20 + rng.int(300),
          peerSway: { min: 0.4, max: 3 },
        };
        const before = predictMas(g, ctx);
        const budgets: Budgets = {};
        if (c.costFrac !== undefined) budgets.maxCostUsd = before.costUsd * c.costFrac;
        if (c.latFrac !== undefined) budgets.maxLatencyS = before.latencyS * c.latFrac;
        const res = synthesize({
          graph: g,
          ctx,
          budgets,
          gate: slots.map(() => rng.next()),
          edge: slots.map(() => slots.map(() => rng.next())),
          pool,
        });
        const fits = pool.some((b) => {
          const p = predictMas(
            {
              slots,
              active: slots.map((_, v) => v === c.n - 1),
              backbone: slots.map(() => b),
              adj: slots.map(() => new Array<boolean>(c.n).fill(false)),
            },
            ctx,
          );
          return (
            (budgets.maxCostUsd === undefined || p.costUsd <= budgets.maxCostUsd) &&
            (budgets.maxLatencyS === undefined || p.latencyS <= budgets.maxLatencyS)
          );
        });
        assert.equal(res.feasible, fits);
        if (res.actions.length) acted++;
        const out = res.graph;
        assert.ok(out.active[c.n - 1], 'decision agent kept');
        for (let u = 0; u < c.n; u++) {
          for (let v = u + 1; v < c.n; v++)
            if (out.adj[u]![v]) assert.ok(out.active[u] && out.active[v], 'edges between active agents');
          if (u < c.n - 1 && out.active[u])
            assert.ok(
              out.adj[u]!.some((e, v) => e && out.active[v]),
              `worker ${u} has a successor`,
            );
        }
        const p = predictMas(out, ctx);
        assert.deepEqual(p, res.prediction);
        if (fits) {
          feasibleCases++;
          if (budgets.maxCostUsd !== undefined) assert.ok(p.costUsd <= budgets.maxCostUsd * (1 + 1e-12));
          if (budgets.maxLatencyS !== undefined) assert.ok(p.latencyS <= budgets.maxLatencyS * (1 + 1e-12));
        }
      },
    ),
    { numRuns: 1500, seed: 21 },
  );
  assert.ok(acted > 500, `synthesis acted in ${acted} cases`);
  assert.ok(feasibleCases > 500, `feasible ${feasibleCases}`);
});
