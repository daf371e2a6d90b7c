import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_POOLS } from '../../core/pool-file';
import { profileFromPoolFile } from '../../core/profiling/pool-profile';
import { choosePortfolio, fitProbability, portfolio, scoreSpec, type PortfolioRequest } from '../../core/designer/portfolio';
import { COT_AGGREGATE, COT_SAMPLE } from '../../core/methods/templates';
import { countTokens } from '../../core/tokens';
import type { Budgets } from '../../core/mas';

const pool = BUILTIN_POOLS['sim-14']!;
const profile = profileFromPoolFile(pool.backbones, { simulated: true, difficultyPrior: 0 });
const query = 'A shop has 17 boxes with 12 pens each and sells 30 pens. How many pens are left?';

function request(budgets: Budgets): PortfolioRequest {
  return {
    profile,
    domain: 'math',
    budgets,
    difficulty: 0,
    queryTokens: countTokens(query),
    countTokens,
    peerSway: { min: 0.4, max: 3 },
    decisionRole: { id: 'decision', prompt: 'You give the final answer. End with "Answer: <number>".' },
    votePrompts: { sample: COT_SAMPLE, aggregate: COT_AGGREGATE },
    choiceOptions: 0,
  };
}

test('fit probability: lognormal spend around the prediction', () => {
  assert.equal(fitProbability(1, undefined, 0.35), 1);
  assert.ok(fitProbability(1, 1, 0.35) > 0.5 && fitProbability(1, 1, 0.35) < 0.6);
  assert.ok(fitProbability(1, 3, 0.35) > 0.99);
  assert.ok(fitProbability(1, 0.3, 0.35) < 0.01);
});

test('the design space holds one agent, k-sample votes and cascades next to the learned topology', () => {
  const entries = portfolio(request({ maxCostUsd: 0.001 }));
  const kinds = new Set(entries.map((e) => e.kind));
  for (const k of ['single', 'vote', 'cascade'] as const) assert.ok(kinds.has(k), `no ${k} candidate`);
  for (const e of entries.filter((x) => x.kind === 'cascade')) {
    assert.deepEqual(e.cascade!.samples, [2, 1]);
    assert.ok(e.worstCostUsd >= e.costUsd && e.worstLatencyS >= e.latencyS);
  }
  for (const e of entries.filter((x) => x.kind === 'vote')) assert.equal(e.spec.decision, 'aggregator');
});

test('choice: the best predicted accuracy under the budgets; ties go to less of the other resource', () => {
  for (const budgets of [{ maxCostUsd: 0.0002 }, { maxCostUsd: 0.01 }, { maxLatencyS: 3 }, { maxLatencyS: 30 }] as Budgets[]) {
    const entries = portfolio(request(budgets));
    const pick = choosePortfolio(entries, budgets);
    const best = Math.max(...entries.map((e) => e.score));
    assert.ok(pick.score >= best - 0.01, 'within the tie tolerance of the best');
    const tied = entries.filter((e) => e.score >= best - 0.01);
    const other = (e: (typeof entries)[number]): number => (budgets.maxCostUsd !== undefined ? e.latencyS : e.costUsd);
    assert.equal(other(pick), Math.min(...tied.map(other)));
  }
  // A loose cost budget alone does not buy a slow design when a fast one predicts the same.
  const loose = choosePortfolio(portfolio(request({ maxCostUsd: 0.01 })), { maxCostUsd: 0.01 });
  const slowest = Math.max(...portfolio(request({ maxCostUsd: 0.01 })).map((e) => e.latencyS));
  assert.ok(loose.latencyS < slowest / 4, `picked ${loose.label} at ${loose.latencyS.toFixed(1)} s`);
});

test('scoreSpec agrees with the portfolio on a single agent', () => {
  const req = request({ maxCostUsd: 0.0005 });
  const entries = portfolio(req);
  const single = entries.find((e) => e.kind === 'single' && e.label === 'single gpt-4o-mini')!;
  const s = scoreSpec(single.spec, { decision: req.decisionRole.prompt }, req);
  assert.ok(Math.abs(s.score - single.score) < 1e-12);
});
