import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/agentbalance.cjs');
const CYCLIC_SPEC = path.join(mkdtempSync(path.join(os.tmpdir(), 'ab-spec-')), 'cyclic.json');
writeFileSync(
  CYCLIC_SPEC,
  JSON.stringify({
    agents: [
      { id: 'a', role: 'solver', backbone: 'gpt-4o-mini' },
      { id: 'b', role: 'solver', backbone: 'gpt-4o-mini' },
      { id: 'd', role: 'decision', backbone: 'gpt-4o-mini' },
    ],
    edges: [['a', 'b'], ['b', 'a'], ['a', 'd']],
    decision: 'd',
  }),
);

function cli(args: string[], env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.TEMPORAL_ADDRESS;
  return spawnSync(process.execPath, [BIN, ...args], { env: e, encoding: 'utf8', timeout: 120_000 });
}

test('bad input: exit 2 and one line on stderr, no stack trace', () => {
  for (const args of [
    ['run', '--query', 'x', '--max-cost', '-1'],
    ['run', '--query', 'x', '--max-latency', 'abc'],
    ['run'],
    ['run', '--benchmark', 'nope', '--index', '0'],
    ['run', '--spec', '/does/not/exist.json'],
    ['run', '--spec', CYCLIC_SPEC, '--query', 'hi'],
    ['campaign', '--benchmark', 'sample-math', '--methods', 'nope', '--cost-budgets', '0.001'],
    ['campaign', '--benchmark', 'sample-math', '--methods', 'chain'],
    ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0,-1'],
    ['report', 'c-does-not-exist'],
    ['select', '--benchmark', 'nope'],
  ]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  }
});

test('run on the embedded defaults: starts the dev server and a worker, prints the JSON contract, stops what it started', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'ab-state-'));
  try {
    const r = cli(['run', '--benchmark', 'sample-math', '--index', '2', '--max-cost', '0.001', '--max-latency', '20', '--json'], {
      AGENTBALANCE_STATE_DIR: state,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['answer', 'costUsd', 'latencyS', 'deadlineHit', 'budgetExhausted', 'agents', 'simulated']) assert.ok(k in out, `missing ${k}`);
    assert.equal(out.simulated, true);
    assert.ok((out.costUsd as number) <= 0.001);
    // With --benchmark the designer picks the agents: at least the decision agent, and the
    // topology lists exactly the agents that ran.
    const agents = out.agents as { id: string }[];
    const topology = out.topology as { agents: { id: string }[]; edges: unknown[] };
    assert.ok(agents.length >= 1);
    assert.deepEqual(topology.agents.map((a) => a.id), agents.map((a) => a.id));
    assert.equal(typeof out.correct, 'boolean');
    // The embedded server is gone again: no process serves this state folder's database, and
    // the folder no longer records a server.
    const db = path.join(state, 'temporal.sqlite');
    const serving = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(db);
        } catch {
          return false;
        }
      });
    assert.deepEqual(serving, [], 'the dev server this command started is still running');
    assert.equal(existsSync(path.join(state, 'dev-server.json')), false);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
