import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentTrace, RunMasResult } from '../../core/mas';
import { registry } from '../../activities/metrics';
import { bookRun } from '../../activities/observe';

const trace = (over: Partial<AgentTrace>): AgentTrace => ({
  id: 'a',
  role: 'solver',
  backbone: 'm1',
  status: 'ok',
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  latencyS: 0,
  startS: 0,
  finishS: 0,
  maxTokens: 0,
  attempts: 1,
  ...over,
});

async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name.replace(/_(sum|count)$/, ''));
  const suffix = /_(sum|count)$/.exec(name)?.[0];
  return (m?.values ?? [])
    .filter(
      (v) =>
        (suffix ? (v as { metricName?: string }).metricName === name : true) &&
        Object.entries(labels).every(([k, x]) => v.labels[k] === x),
    )
    .reduce((s, v) => s + v.value, 0);
}

test('bookRun: cost per model with the unattributed remainder, tokens only for calls made, budget events', async () => {
  const result: RunMasResult = {
    answer: '42',
    costUsd: 0.003,
    latencyS: 2.5,
    deadlineHit: true,
    budgetExhausted: true,
    simulated: false,
    agents: [
      trace({ id: 'a', backbone: 'm1', inputTokens: 100, outputTokens: 20, costUsd: 0.001, latencyS: 1.5 }),
      // Skipped by the budget: the counted prompt never reached the provider.
      trace({ id: 'b', backbone: 'm2', status: 'skipped_budget', inputTokens: 500 }),
      // A retry wait cancelled by the deadline: the trace was emptied, its cost is the remainder.
      trace({ id: 'c', backbone: 'm2', status: 'cancelled_deadline', attempts: 0 }),
    ],
    topology: { agents: [], edges: [] },
  };
  const before = {
    m1: await value('agentbalance_cost_usd_total', { model: 'gpt-x', method: 'chain' }),
    m2: await value('agentbalance_cost_usd_total', { model: 'claude-y', method: 'chain' }),
    tokens: await value('gen_ai_client_token_usage_sum'),
    calls: await value('gen_ai_client_operation_duration_seconds_count'),
    deadline: await value('agentbalance_budget_events_total', { kind: 'deadline_hit', method: 'chain' }),
    inFlight: await value('agentbalance_runs_in_flight'),
  };
  bookRun({
    result,
    method: 'chain',
    backbones: [
      { id: 'm1', provider: 'openai', model: 'gpt-x' },
      { id: 'm2', provider: 'anthropic', model: 'claude-y' },
    ],
  });
  assert.ok(
    Math.abs(
      (await value('agentbalance_cost_usd_total', { model: 'gpt-x', method: 'chain', simulated: 'false' })) - before.m1 - 0.001,
    ) < 1e-15,
  );
  assert.ok(
    Math.abs((await value('agentbalance_cost_usd_total', { model: 'claude-y', provider: 'anthropic' })) - before.m2 - 0.002) <
      1e-15,
  );
  assert.equal((await value('gen_ai_client_token_usage_sum')) - before.tokens, 120);
  assert.equal((await value('gen_ai_client_operation_duration_seconds_count')) - before.calls, 1);
  assert.equal((await value('agentbalance_budget_events_total', { kind: 'deadline_hit', method: 'chain' })) - before.deadline, 1);
  assert.equal((await value('agentbalance_runs_in_flight')) - before.inFlight, -1);
});
