import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ORCHESTRATION_HOP_S, orchestrationHopS } from '../../core/orchestration';
import { predictCompiled, type CompiledTopology } from '../../core/methods/util';
import { BUILTIN_POOLS } from '../../core/pool-file';
import type { Backbone } from '../../core/pool';

const sim = BUILTIN_POOLS['sim-14']!.backbones[0]!;
const real: Backbone = { ...sim, provider: 'openai' };

test('the latency predictor adds the measured per-hop orchestration overhead once per agent on the critical path of a real-time run', () => {
  const chain: CompiledTopology = { ids: ['a', 'b', 'c'], decision: 2, order: [0, 1, 2], preds: [[], [0], [1]], baseIn: [100, 100, 100] };
  const fanIn: CompiledTopology = { ids: ['a', 'b', 'c'], decision: 2, order: [0, 1, 2], preds: [[], [], [0, 1]], baseIn: [100, 100, 100] };
  for (const [c, depth] of [[chain, 3], [fanIn, 2]] as const) {
    const modelled = predictCompiled(c, [sim, sim, sim], 'math').latencyS;
    const realTime = predictCompiled(c, [real, real, real], 'math').latencyS;
    assert.ok(Math.abs(realTime - modelled - depth * ORCHESTRATION_HOP_S.p50) < 1e-9, `depth ${depth}: ${realTime} vs ${modelled}`);
  }
});

test('the simulated pool runs on a modelled clock: no orchestration overhead in its predictions', () => {
  assert.equal(orchestrationHopS('simulated'), 0);
  assert.equal(orchestrationHopS('anthropic'), ORCHESTRATION_HOP_S.p50);
  assert.ok(ORCHESTRATION_HOP_S.p99 >= ORCHESTRATION_HOP_S.p50);
});
