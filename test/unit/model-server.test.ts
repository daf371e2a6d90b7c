/**
 * The local model server's HTTP contract, over a stand-in model (no node-llama-cpp needed): request
 * validation, OpenAI-shaped responses with usage and finish_reason, one FIFO queue per model, and
 * generations stopped when their client disconnects. The real engine is covered by
 * test/temporal/real-engine.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import OpenAI from 'openai';
import type { GenerateRequest, GenerateResult, LoadedModel } from '../../infra/model-server/engine';
import { completionPrompt } from '../../infra/model-server/engine';
import { startModelServer, type ModelServer } from '../../infra/model-server/server';

/** Tokens generated so far per "<model> <last message>" (to act once a generation is under way). */
const produced = new Map<string, number>();

/** One "token" (a word) every `msPerToken`; the prompt's tokens are its words. */
function fakeModel(id: string, msPerToken: number, log: string[]): LoadedModel {
  const words = (req: { messages: readonly { content: string }[] }) =>
    req.messages.flatMap((m) => m.content.split(/\s+/).filter(Boolean));
  return {
    id,
    prompt: 'chat',
    contextSize: 64,
    promptTokens: (messages) => words({ messages }).map((_, i) => i),
    async generate(req: GenerateRequest): Promise<GenerateResult> {
      log.push(`start ${id} ${req.messages.at(-1)?.content}`);
      const out: string[] = [];
      let finishReason: GenerateResult['finishReason'] = 'length';
      while (out.length < req.maxTokens) {
        await new Promise((r) => setTimeout(r, msPerToken));
        if (req.signal.aborted) {
          finishReason = 'aborted';
          break;
        }
        out.push(`w${out.length}`);
        produced.set(`${id} ${req.messages.at(-1)?.content}`, out.length);
        if (req.stop.some((s) => out.join(' ').includes(s))) {
          finishReason = 'stop';
          break;
        }
      }
      log.push(`end ${id} ${req.messages.at(-1)?.content} ${finishReason}`);
      return {
        text: out.join(' '),
        promptTokens: words(req).length,
        completionTokens: out.length,
        finishReason,
        ttftS: 0,
        totalS: 0,
      };
    },
    dispose: async () => undefined,
  };
}

let server: ModelServer;
const log: string[] = [];
const client = () => new OpenAI({ apiKey: 'no-key', baseURL: server.baseUrl, maxRetries: 0 });

async function post(body: unknown): Promise<{ status: number; json: { error?: { message: string; code: string | null } } }> {
  const res = await fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { error?: { message: string; code: string | null } } };
}

/** Sends a request; `hangUp` destroys the connection (a client giving up). */
function postAndHangUpLater(body: unknown): { hangUp: () => void } {
  const req = http.request(`${server.baseUrl}/chat/completions`, { method: 'POST' });
  req.on('error', () => undefined);
  req.end(JSON.stringify(body));
  return { hangUp: () => void req.destroy() };
}

const stats = (id: string) => server.stats().find((s) => s.id === id)!;

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('local model server (HTTP contract, stand-in model)', () => {
  before(async () => {
    server = await startModelServer([fakeModel('m1', 5, log), fakeModel('m2', 5, log)], { port: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('the OpenAI SDK gets a completion with usage and finish_reason', async () => {
    const res = await client().chat.completions.create({
      model: 'm1',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'one two three' },
      ],
      max_tokens: 4,
    });
    assert.equal(res.choices[0]?.message.content, 'w0 w1 w2 w3');
    assert.equal(res.choices[0]?.finish_reason, 'length');
    assert.deepEqual(res.usage, { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    const stop = await client().chat.completions.create({
      model: 'm1',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 9,
      stop: 'w2',
    });
    assert.equal(stop.choices[0]?.finish_reason, 'stop');
    const models = await client().models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['m1', 'm2'],
    );
  });

  test('bad requests get a 400 naming the field; an unknown model a 404', async () => {
    const badJson = await post('{nope');
    assert.equal(badJson.status, 400);
    assert.match(badJson.json.error!.message, /^invalid JSON body/);
    const noMsgs = await post({ model: 'm1', messages: [] });
    assert.equal(noMsgs.status, 400);
    assert.match(noMsgs.json.error!.message, /^messages:/);
    const badTemp = await post({ model: 'm1', messages: [{ role: 'user', content: 'x' }], temperature: 7 });
    assert.equal(badTemp.status, 400);
    assert.match(badTemp.json.error!.message, /^temperature:/);
    const stream = await post({ model: 'm1', messages: [{ role: 'user', content: 'x' }], stream: true });
    assert.equal(stream.status, 400);
    assert.match(stream.json.error!.message, /stream/);
    const unknown = await post({ model: 'nope', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error!.code, 'model_not_found');
    const long = await post({ model: 'm1', messages: [{ role: 'user', content: 'w '.repeat(80) }] });
    assert.equal(long.status, 400);
    assert.equal(long.json.error!.code, 'context_length_exceeded');
  });

  test('one queue per model: requests to one model run one at a time, in order; models run side by side', async () => {
    log.length = 0;
    const c = client();
    const ask = (model: string, q: string) =>
      c.chat.completions.create({ model, messages: [{ role: 'user', content: q }], max_tokens: 5 });
    await Promise.all([ask('m1', 'a'), ask('m1', 'b'), ask('m2', 'c')]);
    const m1 = log.filter((l) => l.includes(' m1 '));
    assert.deepEqual(m1, ['start m1 a', 'end m1 a length', 'start m1 b', 'end m1 b length']);
    // m2 started before m1's first request ended: it has its own queue.
    assert.ok(log.indexOf('start m2 c') < log.indexOf('end m1 a length'), log.join(' | '));
  });

  test('a client that disconnects stops its generation, mid-way or while still queued', async () => {
    const before = { ...stats('m1') };
    // The first runs to the context's end (about 60 tokens, 0.3 s) unless stopped; the second
    // waits behind it. Both leave once the first is generating and the second is queued.
    const first = postAndHangUpLater({ model: 'm1', messages: [{ role: 'user', content: 'long' }], max_tokens: 200 });
    await until('the first request to generate', () => stats('m1').generating);
    const second = postAndHangUpLater({ model: 'm1', messages: [{ role: 'user', content: 'queued' }], max_tokens: 200 });
    await until('a token of the first, the second queued behind it', () => (produced.get('m1 long') ?? 0) > 0 && stats('m1').queued === before.queued + 1);
    second.hangUp();
    first.hangUp();
    await until('both aborts to be counted', () => stats('m1').aborted === before.aborted + 2 && !stats('m1').generating);
    const after = stats('m1');
    assert.equal(after.abortedWhileQueued, before.abortedWhileQueued + 1);
    assert.equal(after.completed, before.completed);
    const cut = after.abortedCompletionTokens - before.abortedCompletionTokens;
    assert.ok(cut > 0 && cut < 200, `stopped after ${cut} tokens`);
    assert.ok(!log.includes('start m1 queued'), 'the queued request never started generating');
  });

  test('/health reports the counters', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/health`);
    const body = (await res.json()) as { status: string; models: { id: string; requests: number }[] };
    assert.equal(body.status, 'ok');
    assert.deepEqual(
      body.models.map((m) => m.id),
      ['m1', 'm2'],
    );
    assert.ok(body.models[0]!.requests >= 5);
  });
});

describe('local model server options', () => {
  test('--max-output caps every generation, whatever max_tokens asks', async () => {
    const capped = await startModelServer([fakeModel('m', 1, [])], { port: 0, maxOutputTokens: 3 });
    try {
      const res = await new OpenAI({ apiKey: 'no-key', baseURL: capped.baseUrl, maxRetries: 0 }).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 50,
      });
      assert.equal(res.usage?.completion_tokens, 3);
      assert.equal(res.choices[0]?.finish_reason, 'length');
    } finally {
      await capped.close();
    }
  });
});

describe('base-model prompts', () => {
  test('a conversation becomes plain text ending where the answer starts', () => {
    assert.equal(
      completionPrompt([
        { role: 'system', content: 'You solve problems.' },
        { role: 'user', content: 'Question:\nWhat is 2 + 2?' },
      ]),
      'You solve problems.\n\nQuestion:\nWhat is 2 + 2?\n\nAnswer:',
    );
  });
});
