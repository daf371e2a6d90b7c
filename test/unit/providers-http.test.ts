import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backbone } from '../../core/pool';
import { AnthropicProvider } from '../../activities/providers/anthropic';
import { OpenAIProvider } from '../../activities/providers/openai';
import { assertApiKeys, getProvider, MissingApiKeyError } from '../../activities/providers';
import { parseRetryAfter } from '../../activities/providers/errors';
import { ProviderError, type ChatRequest } from '../../activities/providers/types';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server';

const OPENAI_KEY = 'sk-test-OPENAISECRET0123456789';
const ANTHROPIC_KEY = 'sk-ant-test-ANTHROPICSECRET0123456789';
const env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY };

function backbone(provider: 'openai' | 'anthropic', baseUrl: string, extra: Partial<Backbone> = {}): Backbone {
  return {
    id: `${provider}-test`,
    provider,
    model: provider === 'openai' ? 'gpt-test' : 'claude-test',
    baseUrl,
    priceInPerMTok: 1,
    priceOutPerMTok: 2,
    latency: { ttftS: 0.1, prefillTps: 1000, decodeTps: 50 },
    contextWindow: 8000,
    reasoning: false,
    ...extra,
  };
}

const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  system: 'You are terse.',
  messages: [{ role: 'user', content: 'What is 2 + 2?' }],
  maxTokens: 64,
  temperature: 0.2,
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to reject');
}

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

describe('OpenAI provider over HTTP', () => {
  const provider = new OpenAIProvider({ env });

  test('success: text, usage and the request on the wire', async () => {
    server.enqueue({ kind: 'ok', text: 'Answer: 4', usage: { input: 21, output: 3, cached: 8 } });
    const res = await provider.chat(backbone('openai', server.openaiBaseUrl), request());
    assert.equal(res.text, 'Answer: 4');
    assert.deepEqual(res.usage, { inputTokens: 21, outputTokens: 3, cachedInputTokens: 8 });
    assert.equal(res.simulated, false);
    assert.ok(res.timing.totalS >= 0);
    assert.equal(server.requests.length, 1);
    const seen = server.requests[0]!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.headers.authorization, `Bearer ${OPENAI_KEY}`);
    assert.deepEqual(seen.body, {
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is 2 + 2?' },
      ],
      // A custom base URL means an OpenAI-compatible server: max_tokens, not max_completion_tokens.
      max_tokens: 64,
      temperature: 0.2,
    });
  });

  test('reasoning backbones get no temperature', async () => {
    server.enqueue({ kind: 'ok' });
    await provider.chat(backbone('openai', server.openaiBaseUrl, { reasoning: true }), request());
    const body = server.requests[0]!.body as Record<string, unknown>;
    assert.equal('temperature' in body, false);
  });

  test('429 is retryable and carries retry-after; the SDK does not retry by itself', async () => {
    server.enqueue({ kind: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '7' } });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, true);
    assert.equal(err.status, 429);
    assert.equal(err.retryAfterS, 7);
    assert.match(err.message, /429/);
    assert.equal(server.requests.length, 1);
  });

  test('retry-after-ms wins over retry-after', async () => {
    server.enqueue({ kind: 'error', status: 429, headers: { 'retry-after-ms': '1500', 'retry-after': '9' } });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryAfterS, 1.5);
  });

  test('500 is retryable, attempted once', async () => {
    server.enqueue({ kind: 'error', status: 500, message: 'The server had an error' });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, true);
    assert.equal(err.status, 500);
    assert.equal(server.requests.length, 1);
  });

  test('400 is not retryable', async () => {
    server.enqueue({ kind: 'error', status: 400, message: "Invalid 'max_tokens'" });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.equal(err.status, 400);
    assert.match(err.message, /max_tokens/);
  });

  test('401 is not retryable and the key never appears in the error', async () => {
    server.enqueue({ kind: 'error', status: 401, message: `Incorrect API key provided: ${OPENAI_KEY}.` });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.equal(err.status, 401);
    assert.doesNotMatch(err.message, /OPENAISECRET/);
    assert.doesNotMatch(err.stack ?? '', /OPENAISECRET/);
  });

  test('a malformed response is a non-retryable ProviderError with a short reason', async () => {
    server.enqueue({ kind: 'raw', body: { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } } });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /malformed response: choices/);
  });

  test('cancellation aborts the HTTP request: the server sees the connection close, the call rejects at once', async () => {
    server.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const arrived = server.nextRequest();
    const call = provider.chat(backbone('openai', server.openaiBaseUrl), request({ signal: ac.signal }));
    const closed = server.nextEarlyClose(3000);
    await arrived; // the request is on the wire and the server holds it
    const abortedAt = performance.now();
    ac.abort();
    const err = await rejection(call);
    const tookMs = performance.now() - abortedAt;
    assert.ok(tookMs < 500, `rejected ${tookMs.toFixed(0)} ms after abort`);
    assert.ok(err instanceof Error);
    assert.equal(err instanceof ProviderError, false, 'an aborted call is a cancellation, not a provider failure');
    const rec = await closed;
    assert.equal(rec.closedEarly, true);
    assert.equal(rec.api, 'openai');
  });

  test('cancellation rejects with the signal reason (Temporal passes a CancelledFailure)', async () => {
    server.enqueue({ kind: 'ok', delayMs: 2000 });
    const ac = new AbortController();
    const reason = new Error('activity cancelled');
    const arrived = server.nextRequest();
    const call = provider.chat(backbone('openai', server.openaiBaseUrl), request({ signal: ac.signal }));
    await arrived;
    ac.abort(reason);
    assert.equal(await rejection(call), reason);
    await server.nextEarlyClose(3000);
  });

  test('a refused connection is a retryable network error', async () => {
    const gone = await startFakeLlmServer();
    const url = gone.openaiBaseUrl;
    await gone.close();
    const err = await rejection(provider.chat(backbone('openai', url), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, true);
    assert.equal(err.status, undefined);
    assert.match(err.message, /network error/);
  });
});

describe('Anthropic provider over HTTP', () => {
  const provider = new AnthropicProvider({ env });

  test('success: billable input includes cache writes and reads; cached reads reported apart', async () => {
    server.enqueue({ kind: 'ok', text: 'Four.', usage: { input: 100, output: 7, cacheWrite: 50, cacheRead: 800 } });
    const res = await provider.chat(backbone('anthropic', server.anthropicBaseUrl), request());
    assert.equal(res.text, 'Four.');
    assert.deepEqual(res.usage, { inputTokens: 950, outputTokens: 7, cachedInputTokens: 800 });
    assert.equal(res.simulated, false);
    const seen = server.requests[0]!;
    assert.equal(seen.path, '/v1/messages');
    const auth = `${seen.headers['x-api-key'] ?? ''} ${seen.headers.authorization ?? ''}`;
    assert.match(auth, /ANTHROPICSECRET/);
    assert.deepEqual(seen.body, {
      model: 'claude-test',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'What is 2 + 2?' }],
      system: 'You are terse.',
    });
  });

  test('no cache activity: no cached field', async () => {
    server.enqueue({ kind: 'ok', usage: { input: 30, output: 2 } });
    const res = await provider.chat(backbone('anthropic', server.anthropicBaseUrl), request());
    assert.deepEqual(res.usage, { inputTokens: 30, outputTokens: 2 });
  });

  test('429 with retry-after, 529 overloaded retryable, 400 and 401 not', async () => {
    server.enqueue(
      { kind: 'error', status: 429, headers: { 'retry-after': '3' } },
      { kind: 'error', status: 529, message: 'Overloaded' },
      { kind: 'error', status: 400, message: 'max_tokens: too large' },
      { kind: 'error', status: 401, message: `invalid x-api-key ${ANTHROPIC_KEY}` },
    );
    const b = backbone('anthropic', server.anthropicBaseUrl);
    const e429 = await rejection(provider.chat(b, request()));
    const e529 = await rejection(provider.chat(b, request()));
    const e400 = await rejection(provider.chat(b, request()));
    const e401 = await rejection(provider.chat(b, request()));
    assert.ok(
      e429 instanceof ProviderError &&
        e529 instanceof ProviderError &&
        e400 instanceof ProviderError &&
        e401 instanceof ProviderError,
    );
    assert.deepEqual([e429.retryable, e429.status, e429.retryAfterS], [true, 429, 3]);
    assert.deepEqual([e529.retryable, e529.status], [true, 529]);
    assert.deepEqual([e400.retryable, e400.status], [false, 400]);
    assert.deepEqual([e401.retryable, e401.status], [false, 401]);
    assert.doesNotMatch(e401.message, /ANTHROPICSECRET/);
    assert.equal(server.requests.length, 4);
  });

  test('cancellation mid-request closes the connection', async () => {
    server.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const arrived = server.nextRequest();
    const call = provider.chat(backbone('anthropic', server.anthropicBaseUrl), request({ signal: ac.signal }));
    const closed = server.nextEarlyClose(3000);
    await arrived;
    const started = performance.now();
    ac.abort();
    await rejection(call);
    assert.ok(performance.now() - started < 1000);
    assert.equal((await closed).api, 'anthropic');
  });

  test('a response without usage is malformed', async () => {
    server.enqueue({ kind: 'raw', body: { content: [{ type: 'text', text: 'hi' }] } });
    const err = await rejection(provider.chat(backbone('anthropic', server.anthropicBaseUrl), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /malformed response: usage/);
  });
});

describe('API keys', () => {
  test('a missing key fails the call before any HTTP, naming the variable', async () => {
    const provider = new OpenAIProvider({ env: {} });
    const err = await rejection(provider.chat(backbone('openai', server.openaiBaseUrl, { apiKeyEnv: 'MY_LLM_KEY' }), request()));
    assert.ok(err instanceof ProviderError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /MY_LLM_KEY is not set/);
    assert.equal(server.requests.length, 0);
  });

  test('keys are read from the environment at call time', async () => {
    const name = 'AGENTBALANCE_TEST_KEY_AT_CALL_TIME';
    const provider = getProvider('openai');
    const b = backbone('openai', server.openaiBaseUrl, { apiKeyEnv: name });
    delete process.env[name];
    assert.ok((await rejection(provider.chat(b, request()))) instanceof ProviderError);
    process.env[name] = 'sk-test-late-key-000000';
    try {
      server.enqueue({ kind: 'ok' });
      await provider.chat(b, request());
      assert.equal(server.requests[0]?.headers.authorization, 'Bearer sk-test-late-key-000000');
    } finally {
      delete process.env[name];
    }
  });

  test('assertApiKeys names every missing variable and its backbones; simulated needs none', () => {
    const used = [
      backbone('openai', 'http://x', { id: 'a' }),
      backbone('openai', 'http://x', { id: 'b' }),
      backbone('anthropic', 'http://x', { id: 'c' }),
      backbone('openai', 'http://x', { id: 'd', apiKeyEnv: 'LOCAL_KEY' }),
      { ...backbone('openai', 'http://x', { id: 'sim' }), provider: 'simulated' as const },
    ];
    assert.throws(
      () => assertApiKeys(used, { LOCAL_KEY: 'x' }),
      (err: unknown) =>
        err instanceof MissingApiKeyError &&
        /OPENAI_API_KEY \(used by a, b\)/.test(err.message) &&
        /ANTHROPIC_API_KEY \(used by c\)/.test(err.message) &&
        !/LOCAL_KEY/.test(err.message),
    );
    assert.doesNotThrow(() => assertApiKeys(used, { ...env, LOCAL_KEY: 'x' }));
    assert.doesNotThrow(() => assertApiKeys([used[4]!], {}));
  });
});

test('parseRetryAfter: seconds, milliseconds, HTTP dates, garbage', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  assert.equal(parseRetryAfter(h({ 'retry-after': '12' })), 12);
  assert.equal(parseRetryAfter(h({ 'retry-after-ms': '250' })), 0.25);
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter(h({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now), 30);
  assert.equal(parseRetryAfter(h({ 'retry-after': 'soon' })), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});
