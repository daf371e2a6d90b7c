import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BIN = path.resolve(__dirname, '../../bin/agentbalance.cjs');
function cli(args: string[], env: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.TEMPORAL_ADDRESS;
  // The limit only turns a hang into a failure: an embedded run took over 120 s at load 17.
  return spawnSync(process.execPath, [BIN, ...args], { env: e, encoding: 'utf8', timeout: 600_000 });
}

// The full table of bad inputs runs in-process (test/unit/cli-bad-input.test.ts); this checks that
// the real executable passes main's outcome on: exit status, one stderr line, nothing on stdout.
test('bad input through the executable: exit 2 and one line on stderr', () => {
  const r = cli(['run', '--query', 'x', '--time-factor', '1e999']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trimEnd(), /^agentbalance: --time-factor: the number is not finite \(got "1e999"\)$/);
  assert.equal(r.stdout, '');
});

test('every agent failing (injected 5xx) exits 3 with the provider error on stderr; --json still prints the trace', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'ab-state-'));
  try {
    const r = cli(['run', '--query', 'What is 2 + 3?', '--inject-5xx', '1', '--json'], { AGENTBALANCE_STATE_DIR: state });
    assert.equal(r.status, 3, r.stderr);
    const out = JSON.parse(r.stdout) as { agents: { status: string; attempts: number; error?: string }[] };
    assert.ok(out.agents.every((a) => a.status === 'failed' && a.attempts > 1), 'each call was retried, then failed');
    const last = r.stderr.trimEnd().split('\n').at(-1)!;
    assert.match(last, /^agentbalance: every agent failed; no answer \(\d+ of \d+ failed, first .*HTTP 5\d\d: transient server error \(injected\)\)$/);
  } finally {
    rmSync(state, { recursive: true, force: true });
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

test('campaign --rerun-methods: forgets one method\'s stored runs and runs just those again, with the same outcomes', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'ab-state-'));
  try {
    const args = ['campaign', '--benchmark', 'sample-math', '--limit', '10', '--methods', 'single:gpt-4.1-nano,single:gpt-4o-mini', '--cost-budgets', '0.001', '--concurrency', '16', '--json'];
    const first = cli(args, { AGENTBALANCE_STATE_DIR: state });
    assert.equal(first.status, 0, first.stderr);
    const again = cli([...args, '--rerun-methods', 'single:gpt-4o-mini'], { AGENTBALANCE_STATE_DIR: state });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /--rerun-methods: forgot 10 stored run\(s\) of single:gpt-4o-mini; running them again/);
    const a = JSON.parse(first.stdout) as { campaignId: string; done: number; auc: unknown };
    const b = JSON.parse(again.stdout) as { campaignId: string; done: number; auc: unknown };
    assert.equal(b.campaignId, a.campaignId);
    assert.equal(b.done, 20, 'the kept and the re-run runs, each once');
    assert.deepEqual(b.auc, a.auc, 'common random numbers: the re-run runs come out the same');
    const plain = cli(args, { AGENTBALANCE_STATE_DIR: state });
    assert.equal(plain.status, 0, plain.stderr);
    assert.doesNotMatch(plain.stderr, /forgot/);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
