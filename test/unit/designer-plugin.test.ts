import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { designerAssigner, type LoadedDesigner } from '../../activities/designer-service';
import { assignBackbones, noAgentWeaker, pluginImproves } from '../../core/designer/plugin';
import { abilityFor, profileFromPoolFile } from '../../core/profiling/pool-profile';
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
  const tasks: Task[] = [
    { id: 'm1', benchmark: 'gsm8k', domain: 'math', question: 'Tom has 3 boxes of 12 pencils and gives away 7. How many are left?', answer: { kind: 'numeric', value: '29' } },
    {
      id: 'm2',
      benchmark: 'gsm8k',
      domain: 'math',
      question: 'A train travels 180 km in 2.5 hours and then 120 km in 1.5 hours. What is its average speed in km/h over the whole trip?',
      answer: { kind: 'numeric', value: '75' },
    },
    {
      id: 'k1',
      benchmark: 'mmlu',
      domain: 'knowledge',
      question: 'Which gas makes up most of the Earth\'s atmosphere?\nA. Oxygen\nB. Nitrogen\nC. Argon\nD. Carbon dioxide',
      answer: { kind: 'choice', letter: 'B', options: ['Oxygen', 'Nitrogen', 'Argon', 'Carbon dioxide'] },
    },
  ];
  let swapped = 0;
  let kept = 0;
  for (const task of tasks) {
    const roles = rolesFor(task.domain, task.benchmark).map((r) => ({ id: r.id, prompt: r.prompt }));
    const dec = decisionRole(task.domain, task.benchmark);
    const theta = (id: string): number => abilityFor(loaded.profile.backbones.find((b) => b.id === id)!, task.domain);
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
        const what = `plugin-${base} ${task.id} ${JSON.stringify(budgets)}`;
        // Planned with X's seed, the plug-in decodes exactly X's topology.
        assert.deepEqual(topologyOf(p.spec), topologyOf(x.spec), `${what}: keeps ${base}'s topology`);
        if (JSON.stringify(p.spec) === JSON.stringify(x.spec)) {
          kept++;
          continue;
        }
        swapped++;
        const req = {
          profile: loaded.profile,
          domain: task.domain,
          budgets,
          difficulty: 0,
          queryTokens: countTokens(task.question),
          countTokens,
          peerSway: { min: DEFAULT_HYPER.peerSwayMin, max: DEFAULT_HYPER.peerSwayMax },
        };
        const sx = scoreSpec(x.spec, x.rolePrompts, req);
        const sp = scoreSpec(p.spec, p.rolePrompts, req);
        assert.ok(sp.accuracy >= sx.accuracy + 0.01 - 1e-12, `${what}: more accurate`);
        assert.ok(sp.fit >= sx.fit - 1e-9, `${what}: no riskier`);
        assert.ok(sp.score >= sx.score + 0.01 - 1e-12, `${what}: more accurate within the budgets`);
        for (const a of p.spec.agents) {
          const was = x.spec.agents.find((y) => y.id === a.id)!.backbone;
          assert.ok(theta(a.backbone) >= theta(was), `${what}: ${a.id} no weaker (${was} -> ${a.backbone})`);
        }
      }
    }
  }
  // Both branches are exercised: the rule is not "always keep" nor "always swap".
  assert.ok(kept > 0 && swapped > 0, `kept ${kept}, swapped ${swapped}`);
});

test('no agent weaker: a swap that trades a worker\'s ability for the decision agent\'s is refused', () => {
  const profile = profileFromPoolFile(smallPool());
  const ids = profile.backbones.map((b) => b.id).sort((p, q) => abilityFor(profile.backbones.find((b) => b.id === p)!, 'math') - abilityFor(profile.backbones.find((b) => b.id === q)!, 'math'));
  const weak = ids[0]!;
  const mid = ids[1]!;
  const strong = ids[ids.length - 1]!;
  const on = (w: string, d: string): MasSpec => ({ ...chain, agents: chain.agents.map((a) => ({ ...a, backbone: a.id === 'd' ? d : w })) });
  assert.ok(noAgentWeaker(on(mid, mid), on(mid, strong), profile, 'math'), 'decision upgraded, workers kept');
  assert.ok(!noAgentWeaker(on(mid, mid), on(weak, strong), profile, 'math'), 'workers downgraded');
  assert.ok(noAgentWeaker(on(mid, mid), on(mid, mid), profile, 'math'), 'unchanged');
});

test('a plug-in plans with its base method\'s seed', () => {
  assert.equal(planningSeedMethod('plugin-agentprune'), 'agentprune');
  assert.equal(planningSeedMethod('plugin-gdesigner'), 'gdesigner');
  assert.equal(planningSeedMethod('agentbalance'), 'agentbalance');
  assert.equal(planningSeedMethod('plugin-unknown'), 'plugin-unknown');
});
