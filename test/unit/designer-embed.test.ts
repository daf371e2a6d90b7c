import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embedderFromConfig, OpenAIEmbedder } from '../../activities/embedders';
import { fitHashedIdf, HashedNgramEmbedder } from '../../core/designer/embed';
import { canonicalJson } from '../../core/designer/hash';

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('hashed n-gram embedder: deterministic, unit norm, similar texts closer', () => {
  const e = new HashedNgramEmbedder({ dim: 64 });
  const a = e.embed('You are a careful math solver. Solve step by step.');
  assert.deepEqual(a, new HashedNgramEmbedder({ dim: 64 }).embed('You are a careful math solver. Solve step by step.'));
  assert.equal(a.length, 64);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-9);
  const b = e.embed('You are a careful math solver. Solve it step by step, please.');
  const c = e.embed('Write a Python function that reverses a linked list.');
  assert.ok(dot(a, b) > dot(a, c) + 0.2, `${dot(a, b)} vs ${dot(a, c)}`);
  const idf = fitHashedIdf(['the cat', 'the dog', 'a bird'], 64);
  assert.equal(idf.length, 64);
  const ei = new HashedNgramEmbedder({ dim: 64, idf });
  assert.notEqual(ei.id, e.id);
  assert.ok(Math.abs(Math.hypot(...ei.embed('the cat')) - 1) < 1e-9);
});

test('remote embedder must be prepared and needs its key', async () => {
  const e = new OpenAIEmbedder({ kind: 'openai', model: 'text-embedding-3-small', dim: 64, apiKeyEnv: 'NO_SUCH_KEY' }, {});
  assert.throws(() => e.embed('x'), /not prepared/);
  await assert.rejects(e.prepare(['x']), /NO_SUCH_KEY is not set/);
  const off = embedderFromConfig({ kind: 'hashed-ngram', dim: 32 });
  await off.prepare(['anything']);
  assert.equal(off.embed('anything').length, 32);
});

test('canonical JSON sorts keys and drops undefined members', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 2 }] }), '{"a":[1,{"c":2}],"b":1}');
});
