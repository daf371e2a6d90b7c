/**
 * Two campaigns started at the same moment with different state folders (issue #10): each starts
 * and uses its own dev server and worker, both complete, and each folder's results store holds
 * exactly its own campaign's runs, once each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openResultsStore } from '../../activities/results-store';

const BIN = path.resolve(__dirname, '../../bin/agentbalance.cjs');

function cli(args: string[], stateDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, AGENTBALANCE_STATE_DIR: stateDir };
  delete env.TEMPORAL_ADDRESS;
  delete env.AGENTBALANCE_DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 540_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('two campaigns at once with different state folders both complete, each with exactly its own runs', async () => {
  const a = mkdtempSync(path.join(os.tmpdir(), 'ab-iso-a-'));
  const b = mkdtempSync(path.join(os.tmpdir(), 'ab-iso-b-'));
  try {
    const [ra, rb] = await Promise.all([
      cli(['campaign', '--benchmark', 'sample-math', '--limit', '6', '--methods', 'chain,cascade', '--cost-budgets', '0.0002,0.001', '--json'], a),
      cli(['campaign', '--benchmark', 'sample-mc', '--limit', '4', '--methods', 'chain', '--cost-budgets', '0.001', '--json'], b),
    ]);
    const expected = new Map([
      [a, { r: ra, total: 6 * 2 * 2 }],
      [b, { r: rb, total: 4 }],
    ]);
    const ids = new Set<string>();
    for (const [dir, { r, total }] of expected) {
      assert.equal(r.code, 0, `${dir}: ${r.stderr}`);
      // --json: exactly one JSON object on stdout
      const out = JSON.parse(r.stdout) as { campaignId: string; done: number; total: number; simulated: boolean };
      assert.equal(out.total, total);
      assert.equal(out.done, total);
      assert.equal(out.simulated, true);
      ids.add(out.campaignId);
      const store = await openResultsStore({ sqlitePath: path.join(dir, 'results.sqlite') });
      try {
        const campaigns = await store.listCampaigns();
        assert.deepEqual(campaigns.map((c) => c.meta.id), [out.campaignId], `${dir} holds only its own campaign`);
        const runs = await store.getRuns(out.campaignId);
        assert.equal(runs.length, total, `${dir}: every run stored`);
        assert.equal(new Set(runs.map((x) => x.runKeyId)).size, total, `${dir}: each run once`);
      } finally {
        await store.close();
      }
      // each command stopped the server it started and removed its record
      assert.equal(existsSync(path.join(dir, 'dev-server.json')), false, `${dir}: dev server record left behind`);
    }
    assert.equal(ids.size, 2);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
