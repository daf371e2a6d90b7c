/**
 * `agentbalance keys` and `agentbalance serve` as a user runs them from a fresh clone: embedded
 * dev server and worker in a fresh state folder, the openai SDK as the client, SIGTERM to stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const BIN = path.resolve(__dirname, '../../bin/agentbalance.cjs');

function env(state: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, AGENTBALANCE_STATE_DIR: state };
  delete e.TEMPORAL_ADDRESS;
  delete e.AGENTBALANCE_DATABASE_URL;
  return e;
}
const cli = (state: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env: env(state), encoding: 'utf8', timeout: 60_000 });

// Bad input to `keys` and `serve` is checked in-process with the CLI's other bad input
// (test/unit/cli-bad-input.test.ts).

test('serve on the embedded defaults answers the openai SDK; keys list/spend/revoke; SIGTERM stops it cleanly', async () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'ab-serve-'));
  const created = cli(state, ['keys', 'create', '--name', 'svc', '--daily-limit', '1', '--json']);
  assert.equal(created.status, 0, created.stderr);
  const key = JSON.parse(created.stdout) as { id: string; secret: string };
  assert.ok(!cli(state, ['keys', 'list', '--json']).stdout.includes(key.secret), 'list never prints a secret');

  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: env(state), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 120_000);
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      server.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:/, 'bound to loopback by default');
    const ai = new OpenAI({ apiKey: key.secret, baseURL: `${url}/v1`, maxRetries: 0 });
    const r = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from the CLI test' }] });
    assert.ok(r.choices[0]!.message.content);
    const cost = (r as unknown as { agentbalance: { cost_usd: number } }).agentbalance.cost_usd;

    const spend = JSON.parse(cli(state, ['keys', 'spend', key.id, '--json']).stdout) as { dailyUsd: number; requests: number };
    assert.ok(Math.abs(spend.dailyUsd - cost) < 1e-12);
    assert.equal(spend.requests, 1);
    assert.equal(cli(state, ['keys', 'revoke', key.id]).status, 0);
    await assert.rejects(ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] }), OpenAI.AuthenticationError);
  } finally {
    server.kill('SIGTERM');
    const code = await exited;
    rmSync(state, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /gateway stopped/);
  }
});
