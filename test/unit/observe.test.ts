import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentTrace, RunMasResult } from '../../core/mas';
import { MAX_INITIALISED_LABEL_SETS, initSeries, initialisedLabelSets, registry } from '../../activities/metrics';
import type { WorkflowInfo } from '@temporalio/workflow';
import { bookRun, createObserveSinks } from '../../activities/observe';

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
    costOvershoots: 2,
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
    overshoots: await value('agentbalance_budget_events_total', { kind: 'cost_overshoot', method: 'chain' }),
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
  assert.equal((await value('agentbalance_budget_events_total', { kind: 'cost_overshoot', method: 'chain' })) - before.overshoots, 2);
  assert.equal((await value('agentbalance_runs_in_flight')) - before.inFlight, -1);
});

test('initSeries: known label sets exist at 0 before their first booking, and never reset a booked one', async () => {
  const backbones = [
    { id: 'i1', provider: 'openai' as const, model: 'init-x' },
    { id: 'i2', provider: 'openai' as const, model: 'init-y' },
  ];
  const costSets = async (model: string) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'agentbalance_cost_usd_total');
    return (m?.values ?? []).filter((v) => v.labels.model === model).map((v) => `${v.labels.method}=${v.value}`);
  };
  initSeries(backbones, ['init-chain', 'single:i1']);
  // Every method on every backbone, except that single:<id> goes with its own backbone only.
  assert.deepEqual((await costSets('init-x')).sort(), ['init-chain=0', 'single:i1=0']);
  assert.deepEqual(await costSets('init-y'), ['init-chain=0']);
  assert.equal(await value('agentbalance_run_cost_usd_count', { method: 'init-chain', simulated: 'false' }), 0);
  assert.equal(await value('agentbalance_budget_events_total', { kind: 'budget_exhausted', method: 'init-chain' }), 0);
  assert.equal(await value('agentbalance_budget_events_total', { kind: 'cost_overshoot', method: 'init-chain' }), 0);
  const tokenSets = (await registry.getMetricsAsJSON())
    .find((x) => x.name === 'gen_ai_client_token_usage')!
    .values.filter(
      (v) => v.labels.gen_ai_request_model === 'init-y' && (v as { metricName?: string }).metricName?.endsWith('_count'),
    );
  assert.deepEqual(tokenSets.map((v) => [v.labels.gen_ai_token_type, v.value]).sort(), [
    ['input', 0],
    ['output', 0],
  ]);

  // A booking adds to the series; initialising again (a later run of the method) keeps it.
  bookRun({
    result: {
      answer: '1',
      costUsd: 0.5,
      latencyS: 1,
      deadlineHit: false,
      budgetExhausted: false,
      simulated: false,
      agents: [trace({ id: 'a', backbone: 'i2', inputTokens: 10, outputTokens: 5, costUsd: 0.5, latencyS: 1 })],
      topology: { agents: [], edges: [] },
    },
    method: 'init-new',
    backbones,
  });
  initSeries(backbones, ['init-new']);
  assert.equal(await value('agentbalance_run_cost_usd_count', { method: 'init-new', simulated: 'false' }), 1);
  assert.equal(await value('agentbalance_run_cost_usd_sum', { method: 'init-new', simulated: 'false' }), 0.5);
  assert.equal(await value('agentbalance_cost_usd_total', { model: 'init-y', method: 'init-new' }), 0.5);
  assert.equal(await value('gen_ai_client_token_usage_sum', { gen_ai_request_model: 'init-y' }), 15);
  assert.ok(initialisedLabelSets() <= MAX_INITIALISED_LABEL_SETS);
});

test('the metric sinks book each run of a workflow execution once, however often the call is repeated', async () => {
  const { agentbalanceMetrics: sink } = createObserveSinks();
  const info = (runId: string) => ({ workflowId: 'wf-sinks', runId }) as WorkflowInfo;
  const backbones = [{ id: 'm1', provider: 'simulated' as const, model: 'sim-m1' }];
  const result: RunMasResult = {
    answer: '42',
    costUsd: 0.002,
    latencyS: 1,
    deadlineHit: false,
    budgetExhausted: false,
    simulated: true,
    agents: [trace({ backbone: 'm1', inputTokens: 10, outputTokens: 5, costUsd: 0.002, latencyS: 1 })],
    topology: { agents: [], edges: [] },
  };
  const cost = () => value('agentbalance_cost_usd_total', { model: 'sim-m1', method: 'sinks' });
  const inFlight0 = await value('agentbalance_runs_in_flight');
  const cost0 = await cost();
  // Run 1 of the execution starts; a workflow task retried in this process repeats the call.
  await sink.runStarted.fn(info('r1'), 1, { method: 'sinks', backbones });
  await sink.runStarted.fn(info('r1'), 1, { method: 'sinks', backbones });
  assert.equal(await value('agentbalance_runs_in_flight'), inFlight0 + 1);
  // Run 2 of the same execution (a campaign batch) is another run.
  await sink.runStarted.fn(info('r1'), 2, { method: 'sinks', backbones });
  assert.equal(await value('agentbalance_runs_in_flight'), inFlight0 + 2);
  for (const run of [1, 1, 2]) await sink.observeRun.fn(info('r1'), run, { method: 'sinks', backbones, result });
  assert.equal(await value('agentbalance_runs_in_flight'), inFlight0);
  assert.ok(Math.abs((await cost()) - cost0 - 0.004) < 1e-12, 'two runs booked, the repeated call not');
  // Never during a replay: the SDK calls sinks only outside it (the default, callDuringReplay unset).
  assert.ok(!sink.runStarted.callDuringReplay && !sink.observeRun.callDuringReplay);
});
