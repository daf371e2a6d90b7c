/**
 * The gateway against a real Temporal dev server and real clients: the official `openai` SDK and
 * `curl`. Keys live in a fresh state folder; the pool is the simulated sim-14.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import { loadPool } from '../../activities/pool-loader';
import { loadSplits } from '../../activities/datasets';
import { ensureDesigner } from '../../activities/designer-service';
import { SqliteKeyStore, type KeyLimits } from '../../activities/keys-store';
import { createGateway, type Gateway } from '../../client/gateway/server';
import { ModelCatalog, type DesignerLoader } from '../../client/gateway/models';
import { startTestTemporal, testNamespace } from '../support/temporal';

const execFileP = promisify(execFile);
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-gateway-'));
process.env.AGENTBALANCE_STATE_DIR = stateDir;

let env: TestWorkflowEnvironment;
let workers: RunningWorkers;
let keys: SqliteKeyStore;
let gateway: Gateway;
let url: string;
let secret: string;
let keyId: string;

// A designer trained briefly (the CLI trains 150 steps on first use; the test needs one that works, not a good one).
const quickDesigner: DesignerLoader = async (pool, benchmark) => {
  const { train } = await loadSplits(benchmark, undefined, '0');
  return ensureDesigner({ pool, benchmark, trainTasks: train, seed: '0', options: { steps: 4, batch: 4 } });
};

function startGateway(timeFactor: number): Gateway {
  return createGateway({ client: env.client, keys, catalog: new ModelCatalog(loadPool('sim-14'), quickDesigner), timeFactor });
}

async function newKey(limits: Partial<KeyLimits> = {}): Promise<{ id: string; secret: string }> {
  const { key, secret } = await keys.createKey('test', { defaultMaxCostUsd: 0.01, ...limits });
  return { id: key.id, secret };
}

function sdk(apiKey = secret, baseURL = `${url}/v1`): OpenAI {
  return new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 120_000 });
}

async function curl(args: string[]): Promise<{ status: number; body: string; headers: string }> {
  const { stdout } = await execFileP('curl', ['-s', '-D', '-', '-o', '-', '--max-time', '120', ...args], { maxBuffer: 16 << 20 });
  const split = stdout.indexOf('\r\n\r\n');
  const headers = stdout.slice(0, split);
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)![1]), headers: headers.toLowerCase(), body: stdout.slice(split + 4) };
}

const ask = (content: string) => [{ role: 'user' as const, content }];
type Ext = {
  agentbalance: {
    cost_usd: number;
    workflow_id: string;
    request_id: string;
    idempotent_replay: boolean;
    budgets: { max_cost_usd: number | null; max_latency_s: number | null };
    agents: { backbone: string; inputTokens: number; outputTokens: number }[];
    deadlineHit: boolean;
    budgetExhausted: boolean;
    simulated: boolean;
  };
};

before(async () => {
  env = await startTestTemporal();
  workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) }, env.nativeConnection);
  keys = new SqliteKeyStore(path.join(stateDir, 'gateway.sqlite'));
  ({ id: keyId, secret } = await newKey());
  gateway = startGateway(0);
  url = await gateway.listen(0, '127.0.0.1');
});

after(async () => {
  await gateway?.close({ timeoutMs: 5000 });
  await workers?.shutdown();
  await env?.teardown();
  await keys?.close();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('openai SDK', () => {
  test('a backbone of the pool: one call, OpenAI shape, usage summed, cost booked on the key', async () => {
    const before = await keys.spend(keyId);
    const res = await sdk().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, ...ask('What is 2 + 2?')] });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.model, 'gpt-4o-mini');
    assert.equal(res.choices[0]!.message.role, 'assistant');
    assert.ok((res.choices[0]!.message.content ?? '').length > 0);
    const ext = (res as unknown as Ext).agentbalance;
    assert.equal(ext.agents.length, 1);
    assert.equal(ext.agents[0]!.backbone, 'gpt-4o-mini');
    assert.equal(ext.simulated, true);
    assert.equal(res.usage!.prompt_tokens, ext.agents[0]!.inputTokens);
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);
    assert.ok(ext.cost_usd > 0 && ext.cost_usd <= 0.01, 'within the key default budget');
    assert.equal(ext.budgets.max_cost_usd, 0.01);
    const after = await keys.spend(keyId);
    assert.ok(Math.abs(after.dailyUsd - before.dailyUsd - ext.cost_usd) < 1e-12, 'the settled cost is the run cost');
    assert.equal(after.reservedUsd, 0, 'no reservation left open');
  });

  test('a designed model with body budgets: the designer builds the MAS, the budgets hold', async () => {
    const res = await sdk().chat.completions.create({
      model: 'agentbalance/math',
      messages: ask('A shop sells pens at 3 dollars each. How much do 7 pens cost?'),
      // agentbalance's budget fields travel in the body like any extra OpenAI field.
      ...({ max_cost_usd: 0.002, max_latency_s: 20 } as object),
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const ext = (res as unknown as Ext).agentbalance;
    assert.deepEqual(ext.budgets, { max_cost_usd: 0.002, max_latency_s: 20 });
    assert.ok(ext.agents.length >= 1);
    assert.ok(ext.cost_usd <= 0.002 + 1e-12);
    const sum = ext.agents.reduce((s, a) => s + a.inputTokens + a.outputTokens, 0);
    assert.equal(res.usage!.total_tokens, sum, 'usage summed over agents');
  });

  test('budget headers apply when the body has none; a tiny cost budget is enforced, not exceeded', async () => {
    const res = await sdk().chat.completions.create(
      { model: 'gpt-4o', messages: ask('Explain the theory of relativity in detail.') },
      { headers: { 'x-agentbalance-max-cost-usd': '0.00002', 'x-agentbalance-max-latency-s': '30' } },
    );
    const ext = (res as unknown as Ext).agentbalance;
    assert.deepEqual(ext.budgets, { max_cost_usd: 0.00002, max_latency_s: 30 });
    assert.ok(ext.cost_usd <= 0.00002 + 1e-12);
  });

  test('stream: true streams the final answer as OpenAI chunks', async () => {
    const stream = await sdk().chat.completions.create({ model: 'gpt-4o-mini', messages: ask('Say hi'), stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.total_tokens > 0);
  });

  test('GET /v1/models lists backbones and designs', async () => {
    const ids = [];
    for await (const m of sdk().models.list()) ids.push(m.id);
    for (const id of ['agentbalance', 'agentbalance/math', 'agentbalance/gsm8k', 'gpt-4o-mini']) assert.ok(ids.includes(id), id);
  });

  test('errors come back as the SDK error classes with OpenAI error bodies', async () => {
    await assert.rejects(sdk().chat.completions.create({ model: 'no-such-model', messages: ask('x') }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal(e.code, 'model_not_found');
      return true;
    });
    for (const bad of [{ max_cost_usd: -1 }, { max_cost_usd: 0 }, { max_latency_s: 'fast' }]) {
      await assert.rejects(sdk().chat.completions.create({ model: 'gpt-4o-mini', messages: ask('x'), ...(bad as object) }), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError, JSON.stringify(bad));
        assert.equal(e.code, 'invalid_budget');
        return true;
      });
    }
    await assert.rejects(sdk().chat.completions.create({ model: 'gpt-4o-mini', messages: 'hello' as unknown as [] }), OpenAI.BadRequestError);
    await assert.rejects(sdk('ab-key_000000000000-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').chat.completions.create({ model: 'gpt-4o-mini', messages: ask('x') }), OpenAI.AuthenticationError);
    const revoked = await newKey();
    await keys.revokeKey(revoked.id);
    await assert.rejects(sdk(revoked.secret).chat.completions.create({ model: 'gpt-4o-mini', messages: ask('x') }), OpenAI.AuthenticationError);
  });
});

describe('per-key limits', () => {
  test('concurrent requests on one key never overshoot its daily limit (reserve, then settle)', async () => {
    const k = await newKey({ dailyUsd: 0.0005 });
    const client = sdk(k.secret);
    const outcomes = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: ask(`question ${i}`), ...({ max_cost_usd: 0.0001 } as object) })
          .then((r) => ({ ok: true as const, cost: (r as unknown as Ext).agentbalance.cost_usd }))
          .catch((e: unknown) => {
            assert.ok(e instanceof OpenAI.RateLimitError, String(e));
            assert.equal(e.code, 'spend_limit_exceeded');
            assert.ok(Number(e.headers?.get('retry-after')) >= 1, 'retry-after');
            return { ok: false as const, cost: 0 };
          }),
      ),
    );
    const accepted = outcomes.filter((o) => o.ok);
    assert.ok(accepted.length >= 5, `at least limit / max cost = 5 accepted, got ${accepted.length}`);
    assert.ok(outcomes.some((o) => !o.ok), 'some were refused');
    const spend = await keys.spend(k.id);
    const total = accepted.reduce((s, o) => s + o.cost, 0);
    assert.ok(Math.abs(spend.dailyUsd - total) < 1e-12, 'the key spend is the sum of the answered costs');
    assert.ok(spend.dailyUsd <= 0.0005 + 1e-12, `zero overshoot: spent ${spend.dailyUsd}`);
    assert.equal(spend.requests, accepted.length, 'one stored request per accepted request');
  });

  test('requests per minute: 429 with retry-after past the rate', async () => {
    const k = await newKey({ rpm: 2 });
    const client = sdk(k.secret);
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('a') });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('b') });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('c') }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError);
      assert.equal(e.code, 'rate_limit_exceeded');
      const wait = Number(e.headers?.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 60);
      return true;
    });
  });
});

describe('idempotency', () => {
  test('the same Idempotency-Key gets the same run, not a second one, and is booked once', async () => {
    const k = await newKey();
    const client = sdk(k.secret);
    const opts = { headers: { 'Idempotency-Key': 'order-42' } };
    const [a, b] = await Promise.all([
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('idempotent?') }, opts),
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('idempotent?') }, opts),
    ]);
    const c = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('idempotent?') }, opts);
    const ea = (a as unknown as Ext).agentbalance;
    const eb = (b as unknown as Ext).agentbalance;
    const ec = (c as unknown as Ext).agentbalance;
    assert.equal(ea.workflow_id, eb.workflow_id);
    assert.equal(ea.workflow_id, ec.workflow_id);
    assert.equal(a.choices[0]!.message.content, c.choices[0]!.message.content);
    assert.equal(ec.idempotent_replay, true);
    // The same key for a different request is a conflict, not a silent replay of the other answer.
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('something else') }, opts), (e: unknown) => {
      assert.ok(e instanceof OpenAI.ConflictError);
      assert.equal(e.code, 'idempotency_key_reused');
      return true;
    });
    const rows = await keys.requests(k.id);
    assert.equal(rows.length, 1, 'one stored request');
    assert.ok(Math.abs((await keys.spend(k.id)).dailyUsd - ea.cost_usd) < 1e-12, 'booked once');
  });
});

describe('curl', () => {
  const auth = () => ['-H', `authorization: Bearer ${secret}`, '-H', 'content-type: application/json'];
  const chatUrl = () => `${url}/v1/chat/completions`;
  const errorOf = (body: string) => (JSON.parse(body) as { error: { type: string; code: string; message: string; param: string | null } }).error;

  test('a completion', async () => {
    const r = await curl([...auth(), '-d', JSON.stringify({ model: 'gpt-4o-mini', messages: ask('hello from curl') }), chatUrl()]);
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { choices: { message: { content: string } }[] };
    assert.ok(body.choices[0]!.message.content.length > 0);
    assert.match(r.headers, /x-agentbalance-cost-usd: /);
  });

  test('malformed JSON, wrong types, unknown model, bad budgets, missing key: OpenAI error JSON, never a stack', async () => {
    const cases: [string[], number, string][] = [
      [[...auth(), '-d', '{"model": "gpt-4o-mini", "messages": ['], 400, 'invalid_json'],
      [[...auth(), '-d', '{"model": 7, "messages": []}'], 400, 'invalid_value'],
      [[...auth(), '-d', JSON.stringify({ model: 'gpt-4o-mini', messages: ask('x'), stream: 'yes' })], 400, 'invalid_value'],
      [[...auth(), '-d', JSON.stringify({ model: 'gpt-5-ultra', messages: ask('x') })], 404, 'model_not_found'],
      [[...auth(), '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_cost_usd":1e999}'], 400, 'invalid_budget'],
      [[...auth(), '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_latency_s":-3}'], 400, 'invalid_budget'],
      [[...auth(), '-H', 'x-agentbalance-max-cost-usd: NaN', '-d', JSON.stringify({ model: 'gpt-4o-mini', messages: ask('x') })], 400, 'invalid_budget'],
      [['-d', JSON.stringify({ model: 'gpt-4o-mini', messages: ask('x') })], 401, 'missing_api_key'],
      [['-H', 'authorization: Bearer sk-not-ours', '-d', '{}'], 401, 'invalid_api_key'],
    ];
    for (const [args, status, code] of cases) {
      const r = await curl([...args, chatUrl()]);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.body}`);
      const e = errorOf(r.body);
      assert.equal(e.code, code);
      assert.ok(!/\bat .*\.ts:\d+/.test(r.body), 'no stack trace');
    }
  });

  test('a body over the limit gets 413', async () => {
    const big = path.join(stateDir, 'big.json');
    fs.writeFileSync(big, JSON.stringify({ model: 'gpt-4o-mini', messages: ask('x'.repeat(2 * 1024 * 1024)) }));
    // With `Expect: 100-continue` (curl's default for large bodies), without it, and chunked (no length known up front).
    for (const extra of [[], ['-H', 'Expect:'], ['-H', 'Expect:', '-H', 'transfer-encoding: chunked']]) {
      const r = await curl([...auth(), ...extra, '--data-binary', `@${big}`, chatUrl()]);
      assert.equal(r.status, 413, extra.join(' '));
      assert.equal(errorOf(r.body).code, 'request_too_large');
    }
  });

  test('SSE stream, models, health, readiness, metrics by key id and never by secret', async () => {
    const s = await curl([...auth(), '-N', '-d', JSON.stringify({ model: 'gpt-4o-mini', messages: ask('stream me'), stream: true }), chatUrl()]);
    assert.equal(s.status, 200);
    assert.match(s.headers, /content-type: text\/event-stream/);
    assert.match(s.body, /^data: \{/);
    assert.match(s.body, /data: \[DONE\]\n\n$/);
    assert.equal((await curl([`${url}/v1/models`])).status, 401, 'models need a key');
    assert.equal((await curl(['-H', `authorization: Bearer ${secret}`, `${url}/v1/models`])).status, 200);
    assert.equal((await curl([`${url}/healthz`])).status, 200);
    assert.equal((await curl([`${url}/readyz`])).status, 200);
    const m = await curl([`${url}/metrics`]);
    assert.match(m.body, new RegExp(`agentbalance_gateway_key_cost_usd_total\\{key_id="${keyId}",simulated="true"\\} [0-9.e-]+`));
    assert.match(m.body, /agentbalance_gateway_request_duration_seconds_bucket/);
    assert.match(m.body, /agentbalance_gateway_requests_in_flight/);
    assert.equal(m.body.includes(secret), false);
    assert.equal((await curl(['-X', 'DELETE', chatUrl()])).status, 405);
    assert.equal((await curl([`${url}/nope`])).status, 404);
  });
});

describe('graceful shutdown', () => {
  test('stops accepting, answers every in-flight request, and a retried idempotency key gets the same run', async () => {
    // Real waiting (time factor 1): the runs are still under way when shutdown begins.
    const slow = startGateway(1);
    const slowUrl = await slow.listen(0, '127.0.0.1');
    const client = sdk(secret, `${slowUrl}/v1`);
    const inFlight = [0, 1, 2].map((i) =>
      client.chat.completions.create({ model: 'llama-3.1-8b', messages: ask(`slow ${i}`) }, { headers: { 'Idempotency-Key': `drain-${i}` } }),
    );
    while (slow.inFlight() < 3) await new Promise((r) => setTimeout(r, 20));
    const closing = slow.close({ timeoutMs: 60_000 });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: ask('late') }), OpenAI.APIConnectionError);
    const answered = await Promise.all(inFlight);
    await closing;
    for (const r of answered) assert.ok(r.choices[0]!.message.content);
    // A client that lost its connection retries on another gateway with the same key: same run, no second one.
    const again = await sdk().chat.completions.create({ model: 'llama-3.1-8b', messages: ask('slow 0') }, { headers: { 'Idempotency-Key': 'drain-0' } });
    const first = (answered[0] as unknown as Ext).agentbalance;
    const second = (again as unknown as Ext).agentbalance;
    assert.equal(second.workflow_id, first.workflow_id);
    assert.equal(second.idempotent_replay, true);
    assert.equal(again.choices[0]!.message.content, answered[0]!.choices[0]!.message.content);
  });
});
