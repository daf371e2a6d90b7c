/**
 * Real model calls through Temporal: the local model server (node-llama-cpp, SmolLM2-135M) and the
 * product's real `openai` provider, no scripted or simulated provider anywhere. Needs the models
 * and node-llama-cpp installed (`AGENTBALANCE_INSTALL_MODELS=1 bash infra/bootstrap.sh`, which CI
 * does); elsewhere it skips with a message saying so. Small max_tokens and few calls keep it short.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Backbone } from '../../core/pool';
import { callCostUsd } from '../../core/estimate';
import type { MasSpec, RunMasInput, RunMasResult } from '../../core/mas';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { LOCAL_MODELS, installDir, modelPath, runtimeEntry } from '../../infra/model-server/catalog';
import type { ServerRecord } from '../../infra/model-server/record';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import { startTestTemporal, testNamespace, uid } from '../support/temporal';

// Where bootstrap installed the engine (read before this file points the state folder elsewhere).
const ENGINE = installDir();
const smol = LOCAL_MODELS.find((m) => m.id === 'smollm2-135m')!;
process.env.AGENTBALANCE_ENGINE_DIR = ENGINE;
const installed = existsSync(runtimeEntry()) && existsSync(modelPath(smol));
const inCi = process.env.CI === 'true';
const skip =
  installed || inCi
    ? false
    : `the local models are not installed in ${ENGINE}: run \`AGENTBALANCE_INSTALL_MODELS=1 bash infra/bootstrap.sh\` (or \`agentbalance local up\`) to run this test`;
if (skip) process.stderr.write(`real-engine.test.ts: skipped: ${skip}\n`);

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'ab-real-engine-'));
process.env.AGENTBALANCE_STATE_DIR = stateDir;

let env: TestWorkflowEnvironment;
let workers: RunningWorkers;
let record: ServerRecord;
let backbone: Backbone;

interface ModelCounters {
  requests: number;
  completed: number;
  aborted: number;
  generating: boolean;
  queued: number;
  promptTokens: number;
  completionTokens: number;
  abortedCompletionTokens: number;
}

async function counters(): Promise<ModelCounters> {
  const res = await fetch(`http://127.0.0.1:${record.port}/health`);
  const body = (await res.json()) as { models: (ModelCounters & { id: string })[] };
  return body.models.find((m) => m.id === smol.id)!;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const roles = {
  solver: 'You solve problems. Answer briefly.',
  storyteller: 'You write very long, detailed stories with many chapters. Never stop early.',
  decision: 'You give the final answer in one short sentence.',
};

function input(spec: MasSpec, backbones: Backbone[], budgets: RunMasInput['budgets'] = {}): RunMasInput {
  return { query: 'What is the capital of France?', spec, backbones, rolePrompts: roles, budgets };
}

function run(inp: RunMasInput): Promise<RunMasResult> {
  return env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: uid('real'), args: [inp] });
}

describe('real engine: local model server + openai provider through Temporal', { skip }, () => {
  before(async () => {
    if (!installed)
      throw new Error(
        `CI=true but the local models are not installed in ${ENGINE}: infra/bootstrap.sh should have installed them`,
      );
    // The product's own command starts it (detached, pid file), serving SmolLM2 only, on a free port.
    const { localUp } = await import('../../client/commands/local');
    const up = await localUp({
      models: [smol],
      threads: 1,
      context: 2048,
      maxOutput: 1024,
      port: 0,
      prices: {},
      install: false,
      log: () => undefined,
    });
    record = up.record;
    // Declared prices (the pool file says they are declared): high, so budgets bite at a few tokens.
    backbone = { ...up.pool.backbones[0]!, priceInPerMTok: 100, priceOutPerMTok: 200 };
    env = await startTestTemporal();
    workers = await startWorkers(
      { ...DEFAULT_WORKER_CONFIG, providers: ['openai'], address: '', namespace: testNamespace(env) },
      env.nativeConnection,
    );
  });

  after(async () => {
    await workers?.shutdown();
    await env?.teardown();
    const { localDown } = await import('../../client/commands/local');
    await localDown(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('token counts booked by the run equal the counts the server reports', async () => {
    const spec: MasSpec = {
      agents: [
        { id: 'a', role: 'solver', backbone: smol.id, maxTokens: 24 },
        { id: 'd', role: 'decision', backbone: smol.id, maxTokens: 24 },
      ],
      edges: [['a', 'd']],
      decision: 'd',
    };
    const before = await counters();
    const res = await run(input(spec, [backbone]));
    const after = await counters();
    assert.equal(res.simulated, false);
    assert.deepEqual(
      res.agents.map((a) => a.status),
      ['ok', 'ok'],
    );
    assert.ok(res.answer.length > 0);
    const inTok = res.agents.reduce((s, a) => s + a.inputTokens, 0);
    const outTok = res.agents.reduce((s, a) => s + a.outputTokens, 0);
    assert.equal(inTok, after.promptTokens - before.promptTokens);
    assert.equal(outTok, after.completionTokens - before.completionTokens);
    assert.ok(res.agents.every((a) => a.outputTokens <= 24));
    // The second agent saw the first one's answer: its prompt is longer than the first's.
    assert.ok(res.agents[1]!.inputTokens > res.agents[0]!.inputTokens);
    assert.ok(Math.abs(res.costUsd - callCostUsd(backbone, inTok, outTok)) < 1e-12);
  });

  test('a latency budget shorter than a generation: deadlineHit, and the server stops generating', async (t) => {
    // The backbone claims to be far faster than it is, so the ledger does not shorten max_tokens
    // and the generations really outlast the budget: the workflow must cancel them.
    const optimistic: Backbone = {
      ...backbone,
      priceInPerMTok: 0,
      priceOutPerMTok: 0,
      latency: { ttftS: 0.01, prefillTps: 1e5, decodeTps: 1e4 },
    };
    const spec: MasSpec = {
      agents: [
        { id: 's', role: 'storyteller', backbone: smol.id, maxTokens: 600 },
        { id: 'd', role: 'decision', backbone: smol.id, maxTokens: 600 },
      ],
      edges: [['s', 'd']],
      decision: 'd',
    };
    const before = await counters();
    const budget = 1.5;
    const res = await run({
      ...input(spec, [optimistic], { maxLatencyS: budget }),
      query: 'Tell me the whole story of a dragon, chapter by chapter.',
    });
    const returnedAt = Date.now();
    assert.equal(res.deadlineHit, true);
    assert.ok(res.latencyS <= budget + 0.25, `latency ${res.latencyS} s over the budget ${budget} s`);
    assert.ok(
      res.agents.some((a) => a.status === 'cancelled_deadline'),
      JSON.stringify(res.agents.map((a) => a.status)),
    );
    // Server side: the cancelled request's generation was aborted, well before its 600 tokens.
    const settled = await waitFor('the server to count the aborted generation', async () => {
      const c = await counters();
      return c.aborted > before.aborted && !c.generating && c.queued === 0 ? c : undefined;
    });
    const cut = settled.abortedCompletionTokens - before.abortedCompletionTokens;
    assert.ok(cut < 600 * (settled.aborted - before.aborted), `aborted generations produced ${cut} tokens`);
    t.diagnostic(
      `latency ${res.latencyS.toFixed(2)} s of ${budget} s; agents ${res.agents.map((a) => `${a.id}:${a.status}`).join(', ')}; server aborted ${settled.aborted - before.aborted} generation(s) after ${cut} tokens, idle ${Date.now() - returnedAt} ms after the run returned`,
    );
    // And it stays stopped: no token is generated after the abort.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await counters()).completionTokens, settled.completionTokens);
  });

  test('a cost budget (declared prices) is never exceeded, booked from real usage', async (t) => {
    const spec: MasSpec = {
      agents: [
        { id: 'a', role: 'solver', backbone: smol.id, maxTokens: 64 },
        { id: 'b', role: 'solver', backbone: smol.id, maxTokens: 64 },
        { id: 'd', role: 'decision', backbone: smol.id, maxTokens: 64 },
      ],
      edges: [
        ['a', 'd'],
        ['b', 'd'],
      ],
      decision: 'd',
    };
    let truncatedOrSkipped = 0;
    for (const maxCostUsd of [0.006, 0.015, 0.04]) {
      const before = await counters();
      const res = await run(input(spec, [backbone], { maxCostUsd }));
      const after = await counters();
      assert.ok(res.costUsd <= maxCostUsd + 1e-12, `cost ${res.costUsd} over the budget ${maxCostUsd}`);
      const inTok = after.promptTokens - before.promptTokens;
      const outTok = after.completionTokens - before.completionTokens;
      assert.ok(
        Math.abs(res.costUsd - callCostUsd(backbone, inTok, outTok)) < 1e-12,
        'booked cost = server usage × declared prices',
      );
      t.diagnostic(
        `budget $${maxCostUsd}: cost $${res.costUsd.toFixed(5)}, ${inTok}+${outTok} tokens; ${res.agents.map((a) => `${a.id}:${a.status}/max ${a.maxTokens}`).join(', ')}`,
      );
      truncatedOrSkipped += res.agents.filter(
        (a) => a.status === 'skipped_budget' || (a.status === 'ok' && a.maxTokens < 64),
      ).length;
    }
    assert.ok(truncatedOrSkipped > 0, 'the budgets were tight enough to cap or skip some calls');
  });

  test('a server killed mid-run: a clear failure, and the finished agent loses nothing', async (t) => {
    const spec: MasSpec = {
      agents: [
        { id: 'a', role: 'solver', backbone: smol.id, maxTokens: 16 },
        { id: 's', role: 'storyteller', backbone: smol.id, maxTokens: 600 },
      ],
      edges: [['a', 's']],
      decision: 's',
    };
    const before = await counters();
    const pending = run(input(spec, [backbone]));
    // Kill the server while the second call is generating.
    await waitFor('the second call to be generating', async () => {
      const c = await counters();
      return c.completed > before.completed && c.generating ? c : undefined;
    });
    process.kill(record.pid, 'SIGKILL');
    const res = await pending;
    const [a, s] = res.agents;
    assert.equal(a!.status, 'ok');
    assert.ok(
      (a!.text ?? '').length > 0 && a!.outputTokens > 0 && a!.costUsd > 0,
      'the finished call keeps its text, tokens and cost',
    );
    assert.equal(s!.status, 'failed');
    assert.match(s!.error ?? '', /connect|ECONNREFUSED|socket|terminated/i);
    assert.ok(s!.attempts > 1, 'a dead server is retried before the agent is given up');
    t.diagnostic(
      `after the kill: ${s!.attempts} attempts, error: ${s!.error}; answer ${JSON.stringify(res.answer.slice(0, 60))}`,
    );
  });
});
