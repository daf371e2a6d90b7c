import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { evaluateAssignment, matchingToLp, solveMatchingExhaustive, type MatchingProblem } from '../../core/designer/matching';

const problemArb = fc
  .record({
    R: fc.integer({ min: 1, max: 4 }),
    M: fc.integer({ min: 1, max: 4 }),
    seedVals: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 48, maxLength: 48 }),
    costBudget: fc.option(fc.double({ min: 0.2, max: 3, noNaN: true }), { nil: undefined }),
    latBudget: fc.option(fc.double({ min: 1, max: 30, noNaN: true }), { nil: undefined }),
    lambdaC: fc.double({ min: 0, max: 2, noNaN: true }),
    lambdaL: fc.double({ min: 0, max: 2, noNaN: true }),
  })
  .map(({ R, M, seedVals, costBudget, latBudget, lambdaC, lambdaL }): MatchingProblem => {
    let i = 0;
    const next = (): number => seedVals[i++ % seedVals.length]!;
    const mat = (f: () => number): number[][] => Array.from({ length: R }, () => Array.from({ length: M }, f));
    // Costs in the 1e-4 USD range, as real calls: exercises the LP's scaling.
    const costScale = 1e-4;
    return {
      roles: Array.from({ length: R }, (_, r) => ({ id: `r${r}`, required: r === R - 1 })),
      candidates: Array.from({ length: M }, (_, m) => `m${m}`),
      utility: mat(() => next()),
      costUsd: mat(() => (0.05 + next()) * costScale),
      latencyS: mat(() => 0.5 + 10 * next()),
      decision: R - 1,
      maxCostUsd: costBudget === undefined ? undefined : costBudget * costScale,
      maxLatencyS: latBudget,
      lambdaC,
      lambdaL,
      costRef: costScale,
      latencyRef: 10,
    };
  });

test('HiGHS matching equals brute force on random small instances', async () => {
  const highs = await createHighsMatchingSolver();
  fc.assert(
    fc.property(problemArb, (p) => {
      const ref = solveMatchingExhaustive(p);
      const got = highs(p);
      assert.equal(got.status, ref.status, matchingToLp(p));
      if (ref.status === 'optimal') {
        assert.ok(Math.abs(got.objective - ref.objective) < 1e-6, `objective ${got.objective} vs ${ref.objective}`);
        const v = evaluateAssignment(p, got.assignment);
        assert.ok(v.feasible);
        assert.ok(got.assignment[p.decision]! >= 0, 'decision role assigned');
      }
    }),
    { numRuns: 300, seed: 7 },
  );
});

test('LP text is well-formed for the no-budget case', () => {
  const p: MatchingProblem = {
    roles: [
      { id: 'a', required: false },
      { id: 'd', required: true },
    ],
    candidates: ['x', 'y'],
    utility: [
      [0.1, 0.2],
      [0.5, 0.9],
    ],
    costUsd: [
      [1e-5, 2e-5],
      [1e-5, 3e-5],
    ],
    latencyS: [
      [1, 2],
      [1, 3],
    ],
    decision: 1,
    lambdaC: 0,
    lambdaL: 0,
    costRef: 1e-4,
    latencyRef: 10,
  };
  const lp = matchingToLp(p);
  assert.match(lp, /^Maximize/);
  assert.match(lp, /Binaries/);
  const ref = solveMatchingExhaustive(p);
  assert.deepEqual(ref.assignment, [1, 1]);
});
