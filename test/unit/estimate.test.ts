import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CALL_OVERHEAD_TOKENS,
  DEFAULT_OUTPUT_TOKENS,
  MESSAGE_OVERHEAD_TOKENS,
  agentInputTokens,
  callCostUsd,
  callLatencyS,
  maxOutputTokens,
  meanOutputTokens,
  predictCall,
  sigmoid,
} from '../../core/estimate';
import { profiledFromBackbone } from '../../core/profiling/pool-profile';
import { meanOutputTokensOf } from '../../core/methods/util';
import { ORCHESTRATION_HOP_S } from '../../core/orchestration';
import { BUILTIN_POOLS } from '../../core/pool-file';
import type { Backbone } from '../../core/pool';
import { SimulatedProvider } from '../../activities/providers/sim/provider';

const sim = BUILTIN_POOLS['sim-14']!.backbones;
const standard = sim.find((b) => !b.reasoning)!;
const reasoning = sim.find((b) => b.reasoning)!;
const withoutProfile = (b: Backbone): Backbone => {
  const rest: Backbone = { ...b };
  delete rest.profile;
  return rest;
};

test('output length: the domain figure, else the mean over the other domains, else the default', () => {
  assert.equal(meanOutputTokens({ meanOutputTokens: { math: 300, code: 100 } }, 'math'), 300);
  assert.equal(meanOutputTokens({ meanOutputTokens: { math: 300, code: 100 } }, 'knowledge'), 200);
  assert.equal(meanOutputTokens({ meanOutputTokens: { math: 300, code: 100 } }, undefined), 200);
  assert.equal(meanOutputTokens({ reasoning: false }, 'math'), DEFAULT_OUTPUT_TOKENS.standard);
  assert.equal(meanOutputTokens({ reasoning: true, meanOutputTokens: {} }, 'code'), DEFAULT_OUTPUT_TOKENS.reasoning);
});

test('the baselines, the designer and the simulated pool use one output-length model', async () => {
  const provider = new SimulatedProvider();
  for (const b of [standard, reasoning].map(withoutProfile)) {
    const expected = b.reasoning ? DEFAULT_OUTPUT_TOKENS.reasoning : DEFAULT_OUTPUT_TOKENS.standard;
    assert.equal(meanOutputTokensOf(b, 'math'), expected, `${b.id}: baselines`);
    assert.equal(meanOutputTokens(profiledFromBackbone(b), 'math'), expected, `${b.id}: designer`);
    // Without a task the simulated pool writes generic text of the modelled length.
    const draws = 300;
    let out = 0;
    for (let i = 0; i < draws; i++) {
      const res = await provider.chat(b, {
        system: '',
        messages: [{ role: 'user', content: 'Say something.' }],
        maxTokens: 1_000_000,
        temperature: 0,
        simulation: { role: 'solver', seed: `len/${i}`, peerTexts: [], timeFactor: 0 },
      });
      out += res.usage.outputTokens;
    }
    const ratio = out / draws / expected;
    assert.ok(Math.abs(ratio - 1) < 0.1, `${b.id}: simulated mean output ${(out / draws).toFixed(0)} vs modelled ${expected}`);
  }
});

test('input tokens: prompt, query and call overhead, plus each predecessor message with its framing', () => {
  assert.equal(agentInputTokens(40, 60), 100 + CALL_OVERHEAD_TOKENS);
  assert.equal(agentInputTokens(40, 60, [200, 300]), 600 + CALL_OVERHEAD_TOKENS + 2 * MESSAGE_OVERHEAD_TOKENS);
});

test('a predicted call is the modelled call, plus the orchestration hop for a real-time backbone only', () => {
  const p = predictCall(standard, 1000, 300);
  assert.equal(p.costUsd, callCostUsd(standard, 1000, 300));
  assert.equal(p.latencyS, callLatencyS(standard.latency, 1000, 300));
  const real = predictCall({ ...standard, provider: 'openai' }, 1000, 300);
  assert.ok(Math.abs(real.latencyS - p.latencyS - ORCHESTRATION_HOP_S.p50) < 1e-12);
  assert.equal(callCostUsd({ priceInPerMTok: 2, priceOutPerMTok: 8 }, 1e6, 1e6), 10);
});

test('output caps: 3x the mean within [256, 8192], 1024 without a mean', () => {
  assert.equal(maxOutputTokens(undefined), 1024);
  assert.equal(maxOutputTokens(50), 256);
  assert.equal(maxOutputTokens(300), 900);
  assert.equal(maxOutputTokens(5000), 8192);
});

test('sigmoid is the logistic function, symmetric and finite at the extremes (property)', () => {
  assert.equal(sigmoid(0), 0.5);
  assert.equal(sigmoid(-1000), 0);
  assert.equal(sigmoid(1000), 1);
  fc.assert(
    fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (z) => {
      assert.ok(Math.abs(sigmoid(z) + sigmoid(-z) - 1) < 1e-12);
      assert.ok(Math.abs(sigmoid(z) - 1 / (1 + Math.exp(-z))) < 1e-15);
    }),
  );
});
