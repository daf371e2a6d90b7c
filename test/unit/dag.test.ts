import { test } from 'node:test';
import assert from 'node:assert/strict';
import { criticalPathS, MasSpecError, validateSpec } from '../../core/dag';
import type { MasSpec } from '../../core/mas';

const agent = (id: string, backbone = 'm') => ({ id, role: 'solver', backbone });

function problems(spec: MasSpec, known?: Set<string>): string[] {
  try {
    validateSpec(spec, known);
    return [];
  } catch (e) {
    assert.ok(e instanceof MasSpecError);
    return e.problems;
  }
}

test('a valid DAG gets a topological order with predecessors first', () => {
  const spec: MasSpec = {
    agents: [agent('d'), agent('a'), agent('b')],
    edges: [['a', 'b'], ['b', 'd'], ['a', 'd']],
    decision: 'd',
  };
  const idx = validateSpec(spec, new Set(['m']));
  assert.deepEqual(idx.order, ['a', 'b', 'd']);
  assert.deepEqual(idx.preds.get('d'), ['b', 'a']);
});

test('spec errors name the problem', () => {
  assert.match(problems({ agents: [agent('a'), agent('b'), agent('c')], edges: [['a', 'b'], ['b', 'a'], ['a', 'c']], decision: 'c' }).join(), /cycle among agents (a -> b -> a|b -> a -> b)/);
  assert.match(problems({ agents: [agent('a')], edges: [['a', 'zz']], decision: 'a' }).join(), /unknown agent "zz"/);
  assert.match(problems({ agents: [agent('a')], edges: [], decision: 'x' }).join(), /decision agent "x" is not among the agents/);
  assert.match(problems({ agents: [agent('a'), agent('a')], edges: [], decision: 'a' }).join(), /duplicate agent id "a"/);
  assert.match(problems({ agents: [agent('a', 'nope')], edges: [], decision: 'a' }, new Set(['m'])).join(), /unknown backbone "nope"/);
  assert.match(problems({ agents: [agent('a')], edges: [['a', 'a']], decision: 'a' }).join(), /self-loop/);
  assert.match(problems({ agents: [agent('a'), agent('b')], edges: [['a', 'b']], decision: 'a' }).join(), /must not send/);
});

test('critical path is the longest weighted path; parallel branches do not add up', () => {
  const spec: MasSpec = {
    agents: [agent('x'), agent('y'), agent('z'), agent('d')],
    edges: [['x', 'd'], ['y', 'z'], ['z', 'd']],
    decision: 'd',
  };
  const idx = validateSpec(spec);
  const w = new Map([['x', 5], ['y', 1], ['z', 2], ['d', 1]]);
  assert.equal(criticalPathS(idx, w), 6);
});
