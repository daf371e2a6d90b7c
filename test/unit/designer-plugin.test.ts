import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { designerAssigner, type LoadedDesigner } from '../../activities/designer-service';
import { assignBackbones, pluginImproves } from '../../core/designer/plugin';
import { profileFromPoolFile } from '../../core/profiling/pool-profile';
import { scoreSpec } from '../../core/designer/portfolio';
import { DEFAULT_HYPER } from '../../core/designer/trained-designer';
import { planMethod, planningSeedMethod, type MethodContext } from '../../core/methods';
import { topologyOf } from '../../core/methods/util';
import { BUILTIN_POOLS } from '../../core/pool-file';
import { decisionRole, rolesFor } from '../../core/roles';
import type { Task } from '../../core/task';
import { countTokens } from '../../core/tokens';
import type { Budgets } from '../../core/mas';
import { Rng } from '../../core/random';
import type { MasSpec } from '../../core/mas';
import { MATH_ROLES, randomPool, smallPool } from './designer-fixtures';

const rolePrompts = Object.fromEntries(MATH_ROLES.map((r) => [r.id, r.prompt]));
const chain: MasSpec = {
  agents: [
    { id: 'a1', role: 'analyst', backbone: 'mini' },
    { id: 's1', role: 'solver', backbone: 'mini' },
    { id: 's2', role: 'solver', backbone: 'mini' },
    { id: 'd', role: 'decision', backbone: 'mini' },
  ],
  edges: [
    ['a1', 's1'],
    ['s1', 's2'],
    ['a1', 'd'],
    ['s2', 'd'],
  ],
  decision: 'd',
};

test('plug-in re-assigns backbones only, within budgets whenever some assignment fits', async () => {
  const solver = await createHighsMatchingSolver();
  const query = 'Tom has 3 boxes of 12 pencils and gives away 7. How many are left?';
  fc.assert(
    fc.property(
      fc.integer(),
      fc.integer({ min: 1, max: 7 }),
      fc.double({ min: Math.log(1e-5), max: Math.log(0.5), noNaN: true }),
      fc.double({ min: Math.log(1), max: Math.log(300), noNaN: true }),
      (seed, size, lc, ll) => {
        const profile = profileFromPoolFile(randomPool(new Rng(seed), size));
        const budgets = { maxCostUsd: Math.exp(lc), maxLatencyS: Math.exp(ll) };
        const res = assignBackbones({ spec: chain, query, domain: 'math', budgets, profile, rolePrompts, solver, difficulty: 0 });
        assert.deepEqual(res.spec.edges, chain.edges);
        assert.deepEqual(
          res.spec.agents.map((a) => [a.id, a.role]),
          chain.agents.map((a) => [a.id, a.role]),
        );
        assert.equal(res.spec.decision, 'd');
        if (res.feasible) {
          assert.ok(res.predicted.costUsd <= budgets.maxCostUsd * (1 + 1e-12));
          assert.ok(res.predicted.latencyS <= budgets.maxLatencyS * (1 + 1e-12));
        }
      },
    ),
    { numRuns: 150, seed: 5 },
  );
});

test('plug-in spends a larger budget on stronger backbones', async () => {
  const solver = await createHighsMatchingSolver();
  const profile = profileFromPoolFile(smallPool());
  const query = 'A car goes 45 km/h for 2.5 hours. How far does it go?';
  const ability = (id: string): number => profile.backbones.find((b) => b.id === id)!.ability.math!;
  const tight = assignBackbones({
    spec: chain,
    query,
    domain: 'math',
    budgets: { maxCostUsd: 0.0008, maxLatencyS: 30 },
    profile,
    rolePrompts,
    solver,
    difficulty: 0.5,
  });
  const loose = assignBackbones({
    spec: chain,
    query,
    domain: 'math',
    budgets: { maxCostUsd: 0.05, maxLatencyS: 60 },
    profile,
    rolePrompts,
    solver,
    difficulty: 0.5,
  });
  assert.ok(tight.feasible && loose.feasible);
  const dec = (r: typeof tight): number => ability(r.spec.agents.find((a) => a.id === 'd')!.backbone);
  assert.ok(dec(loose) > dec(tight), `decision ability ${dec(loose)} vs ${dec(tight)}`);
  assert.ok(loose.predicted.accuracy > tight.predicted.accuracy);
});

test('acceptance rule: more accurate by the tolerance and no riskier, or the base stays', () => {
  const base = { accuracy: 0.8, fit: 0.9 };
  assert.ok(pluginImproves(base, { accuracy: 0.82, fit: 0.9 }, 0.01), 'more accurate, same risk');
  assert.ok(pluginImproves(base, { accuracy: 0.82, fit: 0.99 }, 0.01), 'more accurate and safer');
  assert.ok(!pluginImproves(base, { accuracy: 0.805, fit: 0.99 }, 0.01), 'a gain within the tolerance is no gain');
  assert.ok(!pluginImproves(base, { accuracy: 0.95, fit: 0.8 }, 0.01), 'accuracy bought with budget risk');
  assert.ok(!pluginImproves(base, { accuracy: 0.75, fit: 1 }, 0.01), 'budget safety bought with accuracy');
  // Both far over the budgets: a gain that cannot survive them is no gain.
  assert.ok(!pluginImproves({ accuracy: 0.7, fit: 0.001 }, { accuracy: 0.8, fit: 0.002 }, 0.01), 'gain lost to the budgets');
});

test('plugin-X: X itself, or a re-assignment the profile predicts to dominate it (sim-14, every base)', async () => {
  const pool = BUILTIN_POOLS['sim-14']!;
  const loaded = {
    designer: { hyper: DEFAULT_HYPER },
    profile: profileFromPoolFile(pool.backbones, { simulated: true, difficultyPrior: 0 }),
    solver: await createHighsMatchingSolver(),
  } as unknown as LoadedDesigner;
  const assigner = designerAssigner(loaded);
  const questions = [
    'Tom has 3 boxes of 12 pencils and gives away 7. How many are left?',
    'A train travels 180 km in 2.5 hours and then 120 km in 1.5 hours. What is its average speed in km/h over the whole trip?',
  ];
  const roles = rolesFor('math', 'gsm8k').map((r) => ({ id: r.id, prompt: r.prompt }));
  const dec = decisionRole('math', 'gsm8k');
  let swapped = 0;
  let kept = 0;
  for (const [qi, question] of questions.entries()) {
    const task: Task = { id: `t${qi}`, benchmark: 'gsm8k', domain: 'math', question, answer: { kind: 'numeric', value: '29' } };
    for (const budgets of [{ maxCostUsd: 5e-5 }, { maxCostUsd: 2e-4 }, { maxCostUsd: 1e-3 }, { maxCostUsd: 1e-2 }, { maxLatencyS: 3 }, { maxLatencyS: 10 }, { maxLatencyS: 30 }] as Budgets[]) {
      for (const base of ['gdesigner', 'agentprune', 'agentdropout']) {
        const ctx = (m: string): MethodContext => ({
          task,
          budgets,
          backbones: pool.backbones,
          roles,
          decisionRole: { id: dec.id, prompt: dec.prompt },
          seed: `0/${planningSeedMethod(m)}`,
          pluginAssigner: assigner,
        });
        const x = planMethod(base, ctx(base));
        const p = planMethod(`plugin-${base}`, ctx(`plugin-${base}`));
        // Planned with X's seed, the plug-in decodes exactly X's topology.
        assert.deepEqual(topologyOf(p.spec), topologyOf(x.spec), `plugin-${base} keeps ${base}'s topology`);
        if (JSON.stringify(p.spec) === JSON.stringify(x.spec)) {
          kept++;
          continue;
        }
        swapped++;
        const req = {
          profile: loaded.profile,
          domain: 'math' as const,
          budgets,
          difficulty: 0,
          queryTokens: countTokens(question),
          countTokens,
          peerSway: { min: DEFAULT_HYPER.peerSwayMin, max: DEFAULT_HYPER.peerSwayMax },
        };
        const sx = scoreSpec(x.spec, x.rolePrompts, req);
        const sp = scoreSpec(p.spec, p.rolePrompts, req);
        assert.ok(sp.accuracy >= sx.accuracy + 0.01 - 1e-12, `plugin-${base} ${JSON.stringify(budgets)}: more accurate`);
        assert.ok(sp.fit >= sx.fit - 1e-9, `plugin-${base} ${JSON.stringify(budgets)}: no riskier`);
        assert.ok(sp.score >= sx.score + 0.01 - 1e-12, `plugin-${base} ${JSON.stringify(budgets)}: more accurate within the budgets`);
      }
    }
  }
  // Both branches are exercised: the rule is not "always keep" nor "always swap".
  assert.ok(kept > 0 && swapped > 0, `kept ${kept}, swapped ${swapped}`);
});

test('a plug-in plans with its base method\'s seed', () => {
  assert.equal(planningSeedMethod('plugin-agentprune'), 'agentprune');
  assert.equal(planningSeedMethod('plugin-gdesigner'), 'gdesigner');
  assert.equal(planningSeedMethod('agentbalance'), 'agentbalance');
  assert.equal(planningSeedMethod('plugin-unknown'), 'plugin-unknown');
});
