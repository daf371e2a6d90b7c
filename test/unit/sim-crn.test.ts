import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_POOLS } from '../../core/pool-file';
import { parseCallSeed, planSimulatedCall, sampleIndexOf } from '../../activities/providers/sim/provider';
import type { ChatRequest } from '../../activities/providers/types';
import { synthTask } from '../support/sim-tasks';

const pool = BUILTIN_POOLS['sim-14']!;
const b = pool.backbones.find((x) => x.id === 'gpt-4o-mini')!;

function req(i: number, seed: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  const task = synthTask('gsm8k', i);
  return {
    system: 'You are a careful solver.',
    messages: [{ role: 'user', content: task.question }],
    maxTokens: 100_000,
    temperature: 0.7,
    simulation: { task, role: 'solver', seed, peerTexts: [] },
    ...extra,
  };
}

function text(r: ChatRequest): string {
  const p = planSimulatedCall(b, r);
  assert.equal(p.kind, 'ok');
  return p.kind === 'ok' ? p.response.text : '';
}

test('call seeds parse into run seed, agent and attempt; sample index from the agent id', () => {
  assert.deepEqual(parseCallSeed('7/decision-sample2/3'), { base: '7', agentId: 'decision-sample2', attempt: '3' });
  assert.deepEqual(parseCallSeed('a/b/solver/1'), { base: 'a/b', agentId: 'solver', attempt: '1' });
  assert.equal(sampleIndexOf('decision'), 1);
  assert.equal(sampleIndexOf('decision-sample1'), 1);
  assert.equal(sampleIndexOf('solver4'), 4);
});

test('common random numbers: same request, backbone and sample index → same answer, whatever the agent name or attempt', () => {
  for (let i = 0; i < 50; i++) {
    const single = text(req(i, 'c/decision/1'));
    assert.equal(text(req(i, 'c/decision-sample1/1')), single);
    assert.equal(text(req(i, 'c/decision/3')), single, 'a retry answers the same');
  }
});

test('different sample indices, seeds or prompts draw independently', () => {
  let diffSample = 0;
  let diffSeed = 0;
  let diffPrompt = 0;
  for (let i = 0; i < 200; i++) {
    const base = text(req(i, 'c/decision/1'));
    if (text(req(i, 'c/decision-sample2/1')) !== base) diffSample++;
    if (text(req(i, 'd/decision/1')) !== base) diffSeed++;
    if (text(req(i, 'c/decision/1', { system: 'You are a terse solver.' })) !== base) diffPrompt++;
  }
  // Texts differ almost always (the prose is drawn too), whether or not correctness flips.
  for (const n of [diffSample, diffSeed, diffPrompt]) assert.ok(n > 180, `only ${n}/200 differ`);
});

test('the outcome does not depend on the budget cap unless the cap truncates it', () => {
  for (let i = 0; i < 30; i++) {
    const loose = planSimulatedCall(b, req(i, 'c/decision/1'));
    const capped = planSimulatedCall(b, req(i, 'c/decision/1', { maxTokens: 5000 }));
    assert.ok(loose.kind === 'ok' && capped.kind === 'ok');
    assert.equal(capped.response.text, loose.response.text);
    assert.equal(capped.correct, loose.correct);
  }
});
