import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSpec } from '../../core/dag';
import { callLatencyS, tokenUpperBound } from '../../core/estimate';
import { RunBudget } from '../../core/ledger';
import type { AgentTrace, MasSpec } from '../../core/mas';
import { BUILTIN_POOLS } from '../../core/pool-file';
import type { Backbone } from '../../core/pool';
import {
  HARD_DEADLINE_GRACE_S,
  MAX_ATTEMPTS,
  ORCHESTRATION_RESERVE_REAL_S,
  fallbackAnswer,
  newTrace,
  planRun,
  retryDecision,
  runFlags,
  runLatencyS,
  type RunPlanInput,
} from '../../core/run-plan';

const pool = BUILTIN_POOLS['sim-14']!.backbones;
const strong = pool.find((b) => b.id === 'gpt-4o')!;
const weak = pool.find((b) => b.id === 'llama-3.1-8b')!;
const backbones = new Map<string, Backbone>([strong, weak].map((b) => [b.id, b]));
// A fan-in: two solvers feed the decision agent.
const spec: MasSpec = {
  agents: [
    { id: 'a', role: 'solver', backbone: weak.id },
    { id: 'b', role: 'solver', backbone: strong.id, maxTokens: 500 },
    { id: 'd', role: 'decider', backbone: strong.id },
  ],
  edges: [
    ['a', 'd'],
    ['b', 'd'],
  ],
  decision: 'd',
};
const base: RunPlanInput = {
  spec,
  backbones,
  rolePrompts: { solver: 'You solve problems.', decider: 'You decide.' },
  query: 'What is 6 * 7?',
  domain: 'math',
  budgets: { maxCostUsd: 0.01, maxLatencyS: 30 },
};
const index = validateSpec(spec);

test('output caps: the agent’s own, else 3x its backbone’s mean output in the domain', () => {
  const plan = planRun(base, index);
  assert.equal(plan.wantedMaxTokens.get('a'), 3 * weak.profile!.meanOutputTokens.math!);
  assert.equal(plan.wantedMaxTokens.get('b'), 500);
  assert.equal(plan.wantedMaxTokens.get('d'), 3 * strong.profile!.meanOutputTokens.math!);
});

test('worst-case costs bound the decision agent’s input by its predecessors’ caps', () => {
  const plan = planRun(base, index);
  const inTok = tokenUpperBound('You decide.' + base.query) + plan.wantedMaxTokens.get('a')! + plan.wantedMaxTokens.get('b')!;
  const expected = (inTok * strong.priceInPerMTok + plan.wantedMaxTokens.get('d')! * strong.priceOutPerMTok) / 1e6;
  assert.ok(Math.abs(plan.worstCaseUsd.get('d')! - expected) < 1e-15);
  assert.ok(plan.worstCaseUsd.get('d')! > plan.worstCaseUsd.get('b')!);
});

test('deadlines: the soft one leaves the decision agent its modest answer; real time also reserves orchestration', () => {
  const modelled = planRun(base, index);
  assert.equal(modelled.scale, 0);
  assert.equal(modelled.hardDeadlineS, 30);
  assert.equal(modelled.cancelAfterMs, undefined, 'no real waiting: deadlines are enforced on the modelled clock');
  const reserveS = callLatencyS(strong.latency, tokenUpperBound('You decide.' + base.query) + 2 * 64, 128);
  assert.ok(Math.abs(modelled.softDeadlineS - (30 - reserveS)) < 1e-12);

  const realTime = planRun({ ...base, timeFactor: 0.5 }, index);
  assert.ok(Math.abs(realTime.softDeadlineS - (30 - reserveS - ORCHESTRATION_RESERVE_REAL_S / 0.5)) < 1e-12);
  assert.deepEqual(realTime.cancelAfterMs, {
    others: realTime.softDeadlineS * 0.5 * 1000,
    decision: (30 * 0.5 + HARD_DEADLINE_GRACE_S) * 1000,
  });

  const unbounded = planRun({ ...base, budgets: {}, timeFactor: 1 }, index);
  assert.equal(unbounded.softDeadlineS, Infinity);
  assert.equal(unbounded.hardDeadlineS, Infinity);
  assert.equal(unbounded.cancelAfterMs, undefined);
  // A real provider runs in real time whatever the time factor.
  const real = new Map([...backbones].map(([id, b]) => [id, { ...b, provider: 'openai' as const }]));
  assert.equal(planRun({ ...base, backbones: real }, index).scale, 1);
});

test('retry policy: retry-after, else exponential backoff from 1 s; never past the deadline or the last attempt', () => {
  const f = { message: 'x', retryable: true, costUsd: 0 };
  assert.deepEqual(retryDecision(f, 1, 0, 100), { kind: 'retry', waitS: 1 });
  assert.deepEqual(retryDecision(f, 3, 0, 100), { kind: 'retry', waitS: 4 });
  assert.deepEqual(retryDecision({ ...f, retryAfterS: 7 }, 1, 0, 100), { kind: 'retry', waitS: 7 });
  assert.deepEqual(retryDecision(f, 2, 98, 100), { kind: 'past_deadline', waitS: 2 });
  assert.deepEqual(retryDecision(f, MAX_ATTEMPTS, 0, 100), { kind: 'give_up' });
  assert.deepEqual(retryDecision({ ...f, retryable: false }, 1, 0, 100), { kind: 'give_up' });
});

test('the run budget shares what is left in proportion to the unfinished agents’ worst cases', () => {
  const budget = new RunBudget(0.3, new Map([['a', 0.1], ['b', 0.1], ['d', 0.4]]));
  const a = budget.reserve('a', 1);
  assert.equal(a.key, 'a#1');
  assert.ok(Math.abs(a.capUsd - (0.3 * 0.1) / 0.6) < 1e-12);
  budget.settle(a.key, 0.02);
  budget.finished('a');
  // b: (0.3 − 0.02) of the 0.5 still wanted by b and d.
  const b = budget.reserve('b', 1);
  assert.ok(Math.abs(b.capUsd - (0.28 * 0.1) / 0.5) < 1e-12);
  budget.settle(b.key, 0.05);
  budget.finished('b');
  const d = budget.reserve('d', 1);
  assert.ok(Math.abs(d.capUsd - 0.23) < 1e-9, 'the last agent may take all that is left');
  budget.settle(d.key, 0.2);
  assert.ok(budget.spentUsd <= 0.3);
  assert.equal(new RunBudget(undefined, new Map([['a', 1]])).reserve('a', 1).capUsd, 1);
});

const trace = (id: string, backbone: string, extra: Partial<AgentTrace>): AgentTrace => ({ ...newTrace({ id, role: 'solver', backbone }, 0), ...extra });

test('the outcome is read from the traces: flags, latency and the fallback answer', () => {
  const traces = [
    trace('a', weak.id, { finishS: 3, text: 'weak' }),
    trace('b', strong.id, { finishS: 2, text: 'strong' }),
    trace('d', strong.id, { status: 'cancelled_deadline', finishS: 30 }),
  ];
  assert.deepEqual(runFlags(traces), { deadlineHit: true, budgetExhausted: false });
  assert.deepEqual(runFlags([trace('a', weak.id, { status: 'skipped_budget' })]), { deadlineHit: false, budgetExhausted: true });
  assert.deepEqual(runFlags([trace('a', weak.id, { status: 'failed' })]), { deadlineHit: false, budgetExhausted: false });
  assert.equal(runLatencyS(traces, 25), 25);
  assert.equal(runLatencyS(traces.slice(0, 2), 25), 3);
  const states = traces.map((t) => ({ trace: t, usable: t.status === 'ok' }));
  assert.equal(fallbackAnswer(states, backbones, 'math'), 'strong');
  assert.equal(fallbackAnswer(states.slice(0, 1), backbones, 'math'), 'weak');
  assert.equal(fallbackAnswer([], backbones, 'math'), '');
  // Without a domain, abilities are not compared: the later finisher wins.
  assert.equal(fallbackAnswer(states, backbones, undefined), 'weak');
});
