import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CachedProvider, responseCacheKey } from '../../activities/providers/cache';
import type { ChatRequest, ChatResponse, Provider } from '../../activities/providers/types';
import { BUILTIN_POOLS } from '../../core/pool-file';
import type { Backbone } from '../../core/pool';

const backbone: Backbone = { ...BUILTIN_POOLS['sim-14']!.backbones[0]!, provider: 'openai', model: 'gpt-4o-mini' };

class CountingProvider implements Provider {
  readonly kind = 'openai' as const;
  calls = 0;
  async chat(_b: Backbone, req: ChatRequest): Promise<ChatResponse> {
    this.calls++;
    return { text: `answer ${this.calls} to ${req.messages[0]!.content}`, usage: { inputTokens: 10, outputTokens: 5 }, timing: { totalS: 1.5 }, simulated: false };
  }
}

const base: ChatRequest = { system: 's', messages: [{ role: 'user', content: 'q' }], maxTokens: 100, temperature: 0.7 };

test('the response cache answers an identical request without calling the provider again', async () => {
  const inner = new CountingProvider();
  const p = new CachedProvider(inner, mkdtempSync(path.join(os.tmpdir(), 'rc-')));
  const a = await p.chat(backbone, base);
  const b = await p.chat(backbone, { ...base, signal: new AbortController().signal });
  assert.equal(inner.calls, 1);
  assert.deepEqual(b, a);
  assert.equal(b.usage.outputTokens, 5, 'the cached usage is booked as it was');
});

test('the key is the exact request: sample index, sampling parameters, model and messages all count', async () => {
  const k = responseCacheKey(backbone, base);
  assert.equal(responseCacheKey(backbone, { ...base, sampleIndex: 1 }), k, 'sample 1 is the default');
  for (const other of [
    { ...base, sampleIndex: 2 },
    { ...base, temperature: 0 },
    { ...base, maxTokens: 99 },
    { ...base, system: 't' },
    { ...base, messages: [{ role: 'user' as const, content: 'q2' }] },
  ])
    assert.notEqual(responseCacheKey(backbone, other), k);
  assert.notEqual(responseCacheKey({ ...backbone, model: 'gpt-4o' }, base), k);
  const inner = new CountingProvider();
  const p = new CachedProvider(inner, mkdtempSync(path.join(os.tmpdir(), 'rc-')));
  await p.chat(backbone, base);
  await p.chat(backbone, { ...base, sampleIndex: 2 });
  assert.equal(inner.calls, 2, 'the second sample of a request is a new call');
});
