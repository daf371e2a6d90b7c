import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { validateSpec } from '../../core/dag';
import type { Domain } from '../../core/domain';
import type { Budgets, MasSpec } from '../../core/mas';
import { METHOD_IDS, parseMethodList, planMethod, singleId, type MethodContext, type MethodPlan } from '../../core/methods';
import { agentdropoutSequence } from '../../core/methods/agentdropout';
import { agentpruneSequence } from '../../core/methods/agentprune';
import { planCascade } from '../../core/methods/cascade';
import { gdesignerSequence } from '../../core/methods/gdesigner';
import { chainTopology, cotScTopology, debateTopology, layeredTopology, starTopology } from '../../core/methods/templates';
import {
  abilityOf,
  assignAll,
  fitsBudgets,
  predictSpec,
  rolePromptsFor,
  topologyOf,
  type Topology,
} from '../../core/methods/util';
import type { Backbone } from '../../core/pool';
import { BUILTIN_POOLS } from '../../core/pool-file';
import type { Task } from '../../core/task';

const SIM14 = BUILTIN_POOLS['sim-14']!.backbones;

const TASKS: Record<Domain, Task> = {
  math: {
    id: 'gsm8k/1',
    benchmark: 'gsm8k',
    domain: 'math',
    question:
      'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?',
    answer: { kind: 'numeric', value: '72' },
  },
  knowledge: {
    id: 'mmlu/3',
    benchmark: 'mmlu',
    domain: 'knowledge',
    question: "Which gas makes up most of Earth's atmosphere?\nA. Oxygen\nB. Nitrogen\nC. Argon\nD. Carbon dioxide",
    answer: { kind: 'choice', letter: 'B', options: ['Oxygen', 'Nitrogen', 'Argon', 'Carbon dioxide'] },
  },
  code: {
    id: 'humaneval/0',
    benchmark: 'humaneval',
    domain: 'code',
    question: 'def add(a, b):\n    """Return the sum of a and b."""\n',
    answer: { kind: 'code', language: 'python', entryPoint: 'add', tests: 'assert add(1, 2) == 3', prelude: '' },
  },
};

const ROLES = [
  { id: 'solver', prompt: 'You are a careful solver. Work through the problem step by step.' },
  { id: 'verifier', prompt: 'You check the reasoning of other agents and fix their mistakes.' },
  { id: 'analyst', prompt: 'You analyse the question, list the facts it gives and plan a solution.' },
  { id: 'expert', prompt: 'You are a domain expert who answers precisely and concisely.' },
];
const DECISION = { id: 'decision', prompt: 'You give the final answer in the required format.' };

function ctxOf(
  backbones: readonly Backbone[],
  budgets: Budgets,
  domain: Domain = 'math',
  roles = ROLES,
  seed = '0',
): MethodContext {
  return { task: TASKS[domain], budgets, backbones, roles, decisionRole: DECISION, seed };
}

const backboneArb = (i: number): fc.Arbitrary<Backbone> =>
  fc
    .record({
      pin: fc.double({ min: 0.01, max: 20, noNaN: true }),
      pout: fc.double({ min: 0.01, max: 80, noNaN: true }),
      ttft: fc.double({ min: 0.05, max: 4, noNaN: true }),
      prefill: fc.double({ min: 500, max: 20000, noNaN: true }),
      decode: fc.double({ min: 10, max: 300, noNaN: true }),
      ability: fc.double({ min: -2, max: 5, noNaN: true }),
      out: fc.double({ min: 50, max: 3000, noNaN: true }),
      reasoning: fc.boolean(),
      hasProfile: fc.boolean(),
    })
    .map(({ pin, pout, ttft, prefill, decode, ability, out, reasoning, hasProfile }) => ({
      id: `b${i}`,
      provider: 'simulated' as const,
      model: `m${i}`,
      priceInPerMTok: pin,
      priceOutPerMTok: pout,
      latency: { ttftS: ttft, prefillTps: prefill, decodeTps: decode },
      contextWindow: 128000,
      reasoning,
      ...(hasProfile || i === 0
        ? { profile: { ability: { math: ability, code: ability - 0.5 }, meanOutputTokens: { math: out } } }
        : {}),
    }));

const poolArb: fc.Arbitrary<Backbone[]> = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => backboneArb(i))));

const budgetsArb: fc.Arbitrary<Budgets> = fc.oneof(
  fc.record({ maxCostUsd: fc.double({ min: 1e-5, max: 0.5, noNaN: true }) }),
  fc.record({ maxLatencyS: fc.double({ min: 0.5, max: 300, noNaN: true }) }),
  fc.record({
    maxCostUsd: fc.double({ min: 1e-5, max: 0.5, noNaN: true }),
    maxLatencyS: fc.double({ min: 0.5, max: 300, noNaN: true }),
  }),
  fc.constant({}),
);

const domainArb = fc.constantFrom<Domain>('math', 'knowledge', 'code');
const rolesArb = fc.integer({ min: 0, max: 4 }).map((n) => ROLES.slice(0, n));

function allMethods(pool: readonly Backbone[]): string[] {
  return [...pool.map((b) => singleId(b.id)), ...METHOD_IDS.filter((m) => m !== 'agentbalance')];
}

test('every method plans a valid MAS over random pools, budgets, domains and role sets', () => {
  fc.assert(
    fc.property(poolArb, budgetsArb, domainArb, rolesArb, fc.string({ maxLength: 4 }), (pool, budgets, domain, roles, seed) => {
      const ctx = ctxOf(pool, budgets, domain, roles, seed);
      const ids = new Set(pool.map((b) => b.id));
      for (const m of allMethods(pool)) {
        const plan = planMethod(m, ctx);
        validateSpec(plan.spec, ids);
        for (const s of plan.cascade?.stages ?? []) validateSpec(s, ids);
        for (const a of plan.spec.agents)
          assert.ok(a.systemPrompt !== undefined || plan.rolePrompts[a.role] !== undefined, `${m}: role ${a.role} has a prompt`);
        assert.ok(plan.note && plan.note.length > 0, `${m} has a note`);
        assert.ok(plan.predicted, `${m} reports its prediction`);
        // Deterministic in the context.
        assert.deepEqual(planMethod(m, ctx), plan, `${m} is deterministic`);
      }
    }),
    { numRuns: 60 },
  );
});

/** The reference "best affordable backbone": brute force over the pool. */
function bestAffordable(top: Topology, ctx: MethodContext): { ability: number; exists: boolean } {
  const prompts = rolePromptsFor(top, ctx);
  let best = -Infinity;
  for (const b of ctx.backbones) {
    if (predictSpec(assignAll(top, b.id), prompts, ctx).fits) best = Math.max(best, abilityOf(b, ctx.task.domain));
  }
  return { ability: best, exists: best > -Infinity };
}

const HOMOGENEOUS: [string, (ctx: MethodContext) => Topology][] = [
  ['chain', (c) => chainTopology(c)],
  ['star', (c) => starTopology(c)],
  ['layered', (c) => layeredTopology(c)],
  ['debate', (c) => debateTopology(c)],
  ['cot-sc', (c) => cotScTopology(c, 5)],
];

function homogeneousBackbone(spec: MasSpec): string {
  const ids = new Set(spec.agents.map((a) => a.backbone));
  assert.equal(ids.size, 1, 'one backbone for every agent');
  return [...ids][0]!;
}

test('homogeneous methods take the most able backbone whose predicted cost and latency fit, when one exists', () => {
  fc.assert(
    fc.property(poolArb, budgetsArb, domainArb, (pool, budgets, domain) => {
      const ctx = ctxOf(pool, budgets, domain);
      for (const [m, topOf] of HOMOGENEOUS) {
        const plan = planMethod(m, ctx);
        const chosen = pool.find((b) => b.id === homogeneousBackbone(plan.spec))!;
        const ref = bestAffordable(topOf(ctx), ctx);
        const pred = predictSpec(plan.spec, plan.rolePrompts, ctx);
        assert.equal(pred.fits, ref.exists, `${m}: fits iff some backbone fits`);
        if (ref.exists) assert.equal(abilityOf(chosen, domain), ref.ability, `${m}: most able affordable backbone`);
      }
    }),
    { numRuns: 80 },
  );
});

test('on sim-14, a larger cost budget never gives a homogeneous method a less able backbone', () => {
  const grid = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1];
  for (const domain of ['math', 'knowledge', 'code'] as const) {
    for (const [m] of HOMOGENEOUS) {
      let prev = -Infinity;
      for (const c of grid) {
        const ctx = ctxOf(SIM14, { maxCostUsd: c }, domain);
        const plan = planMethod(m, ctx);
        const b = SIM14.find((x) => x.id === homogeneousBackbone(plan.spec))!;
        if (plan.predicted!.fits) {
          assert.ok(abilityOf(b, domain) >= prev, `${m} ${domain} at $${c}`);
          prev = abilityOf(b, domain);
        }
      }
      assert.ok(prev > -Infinity, `${m} ${domain}: some budget of the grid fits`);
    }
  }
});

test('topology-first methods fit whenever their smallest topology fits on some backbone', () => {
  const seqs: [string, (c: MethodContext) => Topology[]][] = [
    ['gdesigner', gdesignerSequence],
    ['agentprune', agentpruneSequence],
    ['agentdropout', agentdropoutSequence],
  ];
  fc.assert(
    fc.property(poolArb, budgetsArb, domainArb, rolesArb, (pool, budgets, domain, roles) => {
      const ctx = ctxOf(pool, budgets, domain, roles);
      for (const [m, seqOf] of seqs) {
        const seq = seqOf(ctx);
        for (let i = 1; i < seq.length; i++) {
          assert.ok(
            seq[i]!.edges.length + seq[i]!.agents.length < seq[i - 1]!.edges.length + seq[i - 1]!.agents.length,
            `${m}: each step shrinks`,
          );
        }
        const smallestFits = bestAffordable(seq[seq.length - 1]!, ctx).exists;
        const plan = planMethod(m, ctx);
        if (smallestFits) assert.ok(plan.predicted!.fits, `${m} fits`);
        // The plug-in keeps the topology and fits whenever its cheapest homogeneous start does.
        const plug = planMethod(`plugin-${m}`, ctx);
        const strip = (s: MasSpec): unknown => topologyOf(s);
        assert.deepEqual(strip(plug.spec), strip(plan.spec), `plugin-${m} keeps the topology`);
        const top = topologyOf(plan.spec);
        if (bestAffordable(top, ctx).exists) assert.ok(plug.predicted!.fits, `plugin-${m} fits`);
      }
    }),
    { numRuns: 60 },
  );
});

test('agentdropout ends with the decision agent alone; agentprune never drops an agent', () => {
  const ctx = ctxOf(SIM14, { maxCostUsd: 1e-3 });
  const drop = agentdropoutSequence(ctx);
  assert.equal(drop[drop.length - 1]!.agents.length, 1);
  const prune = agentpruneSequence(ctx);
  assert.ok(prune.every((t) => t.agents.length === 5));
  // Minimal pruning: every worker keeps exactly one outgoing edge.
  assert.equal(prune[prune.length - 1]!.edges.length, 4);
});

test('plug-in assignment beats or matches the homogeneous base in predicted success on sim-14', () => {
  for (const budgets of [{ maxCostUsd: 2e-3 }, { maxCostUsd: 1e-2 }, { maxLatencyS: 10 }, { maxLatencyS: 40 }]) {
    const ctx = ctxOf(SIM14, budgets);
    for (const base of ['gdesigner', 'agentprune', 'agentdropout']) {
      const b = planMethod(base, ctx);
      const p = planMethod(`plugin-${base}`, ctx);
      if (!b.predicted!.fits) continue;
      assert.ok(p.predicted!.fits, `plugin-${base} fits under ${JSON.stringify(budgets)}`);
      const dec = (plan: MethodPlan): number =>
        abilityOf(
          SIM14.find((x) => x.id === plan.spec.agents.find((a) => a.id === plan.spec.decision)!.backbone)!,
          'math',
        );
      const sum = (plan: MethodPlan): number =>
        plan.spec.agents.reduce(
          (s, a) =>
            s +
            abilityOf(
              SIM14.find((x) => x.id === a.backbone)!,
              'math',
            ),
          0,
        );
      assert.ok(dec(p) >= dec(b) - 1e-9 || sum(p) >= sum(b) - 1e-9, `plugin-${base} is no weaker than ${base}`);
    }
  }
});

test('cascade: cheaper, weaker stages first; the last stage runs once; worst case fits when the strongest stage alone does', () => {
  fc.assert(
    fc.property(poolArb, budgetsArb, domainArb, (pool, budgets, domain) => {
      const ctx = ctxOf(pool, budgets, domain);
      const plan = planCascade(ctx);
      const c = plan.cascade!;
      assert.ok(c.stages.length >= 1 && c.stages.length <= 3);
      assert.deepEqual(plan.spec, c.stages[0]);
      assert.equal(c.samples[c.samples.length - 1], 1);
      assert.ok(c.samples.slice(0, -1).every((s) => s === 2));
      assert.match(plan.note!, /agree/);
      const stageB = c.stages.map((s) => pool.find((b) => b.id === s.agents[0]!.backbone)!);
      const cost = c.stages.map((s) => predictSpec(s, plan.rolePrompts, ctx).costUsd);
      for (let i = 1; i < stageB.length; i++) {
        assert.ok(cost[i]! > cost[i - 1]!, 'cost increases along the cascade');
        assert.ok(abilityOf(stageB[i]!, domain) > abilityOf(stageB[i - 1]!, domain), 'ability increases along the cascade');
      }
      const anyAlone = pool.some((b) =>
        fitsBudgets(
          predictSpec(
            assignAll({ agents: [{ id: 'decision', role: 'decision' }], edges: [], decision: 'decision' }, b.id),
            plan.rolePrompts,
            ctx,
          ),
          budgets,
        ),
      );
      assert.equal(plan.predicted!.fits, anyAlone);
    }),
    { numRuns: 100 },
  );
});

test('bamas picks a template and per-agent backbones that fit whenever its cheapest template fits', () => {
  fc.assert(
    fc.property(poolArb, budgetsArb, (pool, budgets) => {
      const ctx = ctxOf(pool, budgets);
      const plan = planMethod('bamas', ctx);
      assert.match(plan.note!, /^bamas: (chain|star|layered) template/);
      const starFits = bestAffordable(starTopology(ctx), ctx).exists;
      if (starFits) assert.ok(plan.predicted!.fits);
    }),
    { numRuns: 60 },
  );
});

test('cot-sc has five samples and an aggregator decision agent; debate has two rounds and a judge', () => {
  const ctx = ctxOf(SIM14, { maxCostUsd: 0.01 });
  const cot = planMethod('cot-sc', ctx).spec;
  assert.equal(cot.agents.length, 6);
  assert.equal(cot.decision, 'aggregator');
  assert.equal(cot.edges.length, 5);
  const deb = planMethod('debate', ctx).spec;
  assert.equal(deb.decision, 'judge');
  for (const d of ['r2-d1', 'r2-d2', 'r2-d3']) {
    assert.deepEqual(
      deb.edges
        .filter(([, v]) => v === d)
        .map(([u]) => u)
        .sort(),
      ['r1-d1', 'r1-d2', 'r1-d3'],
    );
  }
  const single = planMethod('single:gpt-4o', ctx).spec;
  assert.deepEqual(single, {
    agents: [{ id: 'decision', role: 'decision', backbone: 'gpt-4o' }],
    edges: [],
    decision: 'decision',
  });
});

test('parseMethodList expands single:* and keywords, dedupes and names valid ids on error', () => {
  const pool = SIM14.slice(0, 3);
  assert.deepEqual(parseMethodList('chain, single:*, chain', pool), ['chain', ...pool.map((b) => `single:${b.id}`)]);
  assert.deepEqual(parseMethodList(['star', 'single:gpt-4o'], pool), ['star', 'single:gpt-4o']);
  const all = parseMethodList('all', pool);
  assert.equal(all.length, pool.length + METHOD_IDS.length);
  assert.ok(!parseMethodList('baselines', pool).includes('agentbalance'));
  assert.throws(
    () => parseMethodList('chain,foo', pool),
    (e: Error) => /unknown method "foo"/.test(e.message) && /cot-sc/.test(e.message) && /agentprune/.test(e.message),
  );
  assert.throws(() => parseMethodList('single:nope', pool), /backbone "nope" is not in the pool/);
  assert.throws(() => parseMethodList(' , ', pool), /empty method list/);
});

test('agentbalance goes through the designer hook, and errors clearly without it', () => {
  const ctx = ctxOf(SIM14, { maxCostUsd: 0.01 });
  assert.throws(() => planMethod('agentbalance', ctx), /needs the trained designer/);
  const designed = planMethod('agentbalance', { ...ctx, designer: (c) => planMethod('single:gpt-4o-mini', c) });
  assert.equal(designed.spec.agents[0]!.backbone, 'gpt-4o-mini');
  assert.throws(() => planMethod('nope', ctx), /unknown method "nope"/);
  // A plug-in assigner that changes the topology is refused.
  assert.throws(
    () => planMethod('plugin-gdesigner', { ...ctx, pluginAssigner: (s) => ({ ...s, edges: [] }) }),
    /changed the topology/,
  );
  const viaHook = planMethod('plugin-gdesigner', {
    ...ctx,
    pluginAssigner: (s) => ({ ...s, agents: s.agents.map((a) => ({ ...a, backbone: 'gpt-4.1-nano' })) }),
  });
  assert.match(viaHook.note!, /designer matching/);
});
