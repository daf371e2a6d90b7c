import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { assignBackbones } from '../../core/designer/plugin';
import { profileFromPoolFile } from '../../core/profiling/pool-profile';
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
