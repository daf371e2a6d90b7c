import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { makeCallAgent } from '../../activities/call-agent';
import type { MasSpec, RunMasInput, RunMasResult } from '../../core/mas';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import { ScriptedProvider, scriptedBackbone, slowAndQuick } from '../support/scripted-provider';
import { startTestTemporal, testNamespace, uid } from '../support/temporal';

let env: TestWorkflowEnvironment;
let workers: RunningWorkers;
const provider = new ScriptedProvider();

before(async () => {
  env = await startTestTemporal();
  workers = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) },
    env.nativeConnection,
    { callAgent: makeCallAgent(() => provider) },
  );
});

after(async () => {
  await workers?.shutdown();
  await env?.teardown();
});

const roles = { solver: 'You solve problems.', decider: 'You give the final answer.' };

function input(spec: MasSpec, backbones: RunMasInput['backbones'], extra: Partial<RunMasInput> = {}): RunMasInput {
  return { query: 'What is 6 * 7?', spec, backbones, rolePrompts: roles, simulation: { timeFactor: 0, rate429: 0, rate5xx: 0, seed: '1' }, ...extra };
}

async function run(inp: RunMasInput, workflowId = uid('run')): Promise<RunMasResult> {
  return env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId, args: [inp] });
}

async function failure(inp: RunMasInput): Promise<string> {
  try {
    await run(inp);
  } catch (e) {
    assert.ok(e instanceof WorkflowFailedError);
    return e.cause?.message ?? '';
  }
  assert.fail('expected the workflow to fail');
}

const fan: MasSpec = {
  agents: [
    { id: 'a', role: 'solver', backbone: 'fast' },
    { id: 'b', role: 'solver', backbone: 'fast2' },
    { id: 'd', role: 'decider', backbone: 'fast' },
  ],
  edges: [['a', 'd'], ['b', 'd']],
  decision: 'd',
};
const fastBackbones = [scriptedBackbone('fast', 'lat=1;answer=Answer: 42'), scriptedBackbone('fast2', 'lat=2;answer=Answer: 42')];

describe('runMas on a real Temporal dev server', () => {
  test('spec and budget validation fail fast with a message naming the problem', async () => {
    const cyclic: MasSpec = { ...fan, edges: [['a', 'b'], ['b', 'a'], ['a', 'd']] };
    assert.match(await failure(input(cyclic, fastBackbones)), /cycle among agents/);
    assert.match(await failure(input({ ...fan, decision: 'zz' }, fastBackbones)), /decision agent "zz"/);
    assert.match(await failure(input({ ...fan, edges: [['a', 'q']] }, fastBackbones)), /unknown agent "q"/);
    assert.match(await failure(input(fan, fastBackbones, { budgets: { maxCostUsd: -1 } })), /budgets\.maxCostUsd/);
    assert.match(await failure(input(fan, fastBackbones, { budgets: { maxLatencyS: 0 } })), /budgets\.maxLatencyS/);
    assert.match(await failure(input({ ...fan, agents: [...fan.agents.slice(0, 2), { id: 'd', role: 'nobody', backbone: 'fast' }] }, fastBackbones)), /no prompt for role/);
  });

  test('any malformed input (a run started straight from the Temporal CLI) fails once, non-retryable, naming the field', async () => {
    // The worker thread shares zod, frozen by the SDK, among its workflows (workflows/preload.ts):
    // every kind of issue must still be reported, never crash the workflow task (which would retry it forever).
    const good = input(fan, fastBackbones);
    const bad: [unknown, RegExp][] = [
      [null, /\(input\): .*expected object/],
      ['run this', /\(input\): .*expected object/],
      [{}, /query: .*spec: .*backbones: /],
      [{ ...good, query: '' }, /query: Too small/],
      [{ ...good, surprise: 1 }, /Unrecognized key: "surprise"/],
      [{ ...good, spec: { ...fan, edges: [['a']] } }, /spec\.edges\.0: /],
      [{ ...good, backbones: [{ id: 7 }] }, /backbones\.0\.id: /],
      [{ ...good, simulation: { timeFactor: 'fast' } }, /simulation\.timeFactor: /],
      [{ ...good, rolePrompts: { solver: 1 } }, /rolePrompts\.solver: /],
      [{ ...good, task: { id: 'x' } }, /task\.\w+: /],
    ];
    for (const [raw, why] of bad) {
      try {
        await env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: uid('bad-input'), args: [raw as RunMasInput], workflowExecutionTimeout: '1 minute' });
        assert.fail(`accepted ${JSON.stringify(raw)}`);
      } catch (e) {
        assert.ok(e instanceof WorkflowFailedError, String(e));
        assert.match(e.cause?.message ?? '', /^invalid runMas input: /);
        assert.match(e.cause?.message ?? '', why);
        assert.equal((e.cause as { type?: string }).type, 'InvalidInput');
        assert.equal((e.cause as { nonRetryable?: boolean }).nonRetryable, true);
      }
    }
    assert.match((await run(good)).answer, /^Answer: 42/);
  });

  test('independent agents run concurrently (from the recorded activity schedule)', async () => {
    const id = uid('concurrency');
    // A little real waiting: calls are regular activities, whose schedule the history records
    // (at time factor 0 they are local activities, #17). The modelled clock is the same.
    const res = await run(input(fan, fastBackbones, { simulation: { timeFactor: 0.001, rate429: 0, rate5xx: 0, seed: '1' } }), id);
    assert.equal(res.answer, 'Answer: 42 (from fast)');
    assert.deepEqual(res.agents.map((a) => a.status), ['ok', 'ok', 'ok']);
    // Modelled clock: a and b both start at 0; d starts when the slower one (b, 2.1 s) is done.
    assert.equal(res.agents[0]!.startS, 0);
    assert.equal(res.agents[1]!.startS, 0);
    assert.ok(Math.abs(res.agents[2]!.startS - 2.1) < 1e-9);
    assert.ok(Math.abs(res.latencyS - 3.2) < 1e-9);
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    const kinds = (history.events ?? []).map((e) =>
      e.activityTaskScheduledEventAttributes ? 'scheduled' : e.activityTaskCompletedEventAttributes ? 'completed' : '',
    ).filter(Boolean);
    // Both worker agents are scheduled before either completes: they overlap.
    assert.deepEqual(kinds.slice(0, 3), ['scheduled', 'scheduled', 'completed']);
  });

  test('deadline: the slow agent is cancelled and the decision answers from what arrived', async () => {
    const { spec, backbones } = slowAndQuick(30);
    // Real time (time factor 1): the slow agent would need 30 s; the budget is 4 s.
    const started = Date.now();
    const res = await run(input(spec, backbones, { budgets: { maxLatencyS: 4 }, simulation: { timeFactor: 1, rate429: 0, rate5xx: 0, seed: '1' } }));
    const wallS = (Date.now() - started) / 1000;
    assert.equal(res.deadlineHit, true);
    assert.equal(res.agents.find((a) => a.id === 'sluggish')!.status, 'cancelled_deadline');
    assert.equal(res.agents.find((a) => a.id === 'quick')!.status, 'ok');
    assert.equal(res.agents.find((a) => a.id === 'd')!.status, 'ok');
    assert.equal(res.answer, 'Answer: 42 (from fast)');
    assert.ok(res.latencyS <= 4);
    // Sanity only (the margin is measured in bench/): far below the 30 s the slow agent needed.
    assert.ok(wallS < 15, `took ${wallS}s`);
  });

  test('deadline on the modelled clock (time factor 0) gives the same outcome', async () => {
    const { spec, backbones } = slowAndQuick(60);
    const res = await run(input(spec, backbones, { budgets: { maxLatencyS: 5 } }));
    assert.equal(res.deadlineHit, true);
    assert.equal(res.agents.find((a) => a.id === 'sluggish')!.status, 'cancelled_deadline');
    assert.equal(res.answer, 'Answer: 42 (from fast)');
  });

  test('retries: 429 and 5xx are retried (honouring retry-after), 400 is not', async () => {
    const backbones = [
      scriptedBackbone('flaky', 'lat=1;fail=429,503;answer=Answer: 42'),
      scriptedBackbone('broken', 'lat=1;fail=400,400,400,400;answer=Answer: 1'),
      scriptedBackbone('fast', 'lat=1;answer=Answer: 42'),
    ];
    const spec: MasSpec = {
      agents: [
        { id: 'f', role: 'solver', backbone: 'flaky' },
        { id: 'x', role: 'solver', backbone: 'broken' },
        { id: 'd', role: 'decider', backbone: 'fast' },
      ],
      edges: [['f', 'd'], ['x', 'd']],
      decision: 'd',
    };
    const res = await run(input(spec, backbones));
    const f = res.agents.find((a) => a.id === 'f')!;
    const x = res.agents.find((a) => a.id === 'x')!;
    assert.equal(f.status, 'ok');
    assert.equal(f.attempts, 3);
    // retry-after 0.5 s for the 429, then 2 s exponential backoff for the 503, then the 1.1 s call.
    assert.ok(Math.abs(f.finishS - (0.5 + 2 + 1.1)) < 1e-9, `finish ${f.finishS}`);
    assert.equal(x.status, 'failed');
    assert.equal(x.attempts, 1);
    assert.match(x.error ?? '', /400/);
    assert.equal(res.agents.find((a) => a.id === 'd')!.status, 'ok');
  });

  test('cost budget: zero overshoot over random DAGs and budgets (property, real workflows)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
        fc.array(fc.record({ pin: fc.double({ min: 0.05, max: 20, noNaN: true }), pout: fc.double({ min: 0.1, max: 80, noNaN: true }), out: fc.integer({ min: 1, max: 3000 }) }), { minLength: 6, maxLength: 6 }),
        fc.double({ min: 1e-6, max: 0.05, noNaN: true }),
        async (n, edgeBits, prices, budget) => {
          const ids = Array.from({ length: n }, (_, i) => `n${i}`);
          const edges: [string, string][] = [];
          let bit = 0;
          for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (edgeBits[bit++ % 15]) edges.push([ids[i]!, ids[j]!]);
          const backbones = prices.map((p, i) => scriptedBackbone(`m${i}`, `lat=1;out=${p.out}`, { priceInPerMTok: p.pin, priceOutPerMTok: p.pout }));
          const spec: MasSpec = {
            agents: ids.map((id, i) => ({ id, role: i === n - 1 ? 'decider' : 'solver', backbone: `m${i}`, maxTokens: 4000 })),
            edges,
            decision: ids[n - 1]!,
          };
          const res = await run(input(spec, backbones, { budgets: { maxCostUsd: budget } }));
          assert.ok(res.costUsd <= budget, `spent ${res.costUsd} > budget ${budget}`);
          // The ledger's own count of calls that cost more than their reservation (reported when > 0).
          assert.equal(res.costOvershoots, undefined);
          const sum = res.agents.reduce((s, a) => s + a.costUsd, 0);
          assert.ok(Math.abs(sum - res.costUsd) < 1e-12);
          for (const a of res.agents) {
            if (a.status === 'ok') assert.ok(a.outputTokens <= a.maxTokens);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
