/** The pool file `local up` writes, its lookup by name in the state folder, and keyless endpoints. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPool } from '../../activities/pool-loader';
import { assertApiKeys } from '../../activities/providers';
import { readApiKey } from '../../activities/providers/keys';
import { localPoolFor, writeLocalPool } from '../../client/commands/local';
import { main } from '../../client/cli';
import { platformPackage } from '../../infra/model-server/install';
import type { ServerRecord } from '../../infra/model-server/record';

const record: ServerRecord = {
  pid: 1234,
  host: '127.0.0.1',
  port: 40123,
  baseUrl: 'http://127.0.0.1:40123/v1',
  threads: 1,
  maxOutputTokens: 256,
  contextSize: 2048,
  models: ['smollm2-135m', 'gemma3-270m'],
  modelInfo: [
    {
      id: 'smollm2-135m',
      title: 'SmolLM2-135M-Instruct Q4_1',
      prompt: 'chat',
      note: 'instruction-tuned; prompted through its chat template (ChatML)',
    },
    {
      id: 'gemma3-270m',
      title: 'Gemma-3-270M (base) Q4_K_M',
      prompt: 'completion',
      note: 'base model, not instruction-tuned: prompted as plain text completion (no chat template)',
    },
  ],
  calibration: {
    'smollm2-135m': { ttftS: 0.01, prefillTps: 250, decodeTps: 60, measuredAt: '2026-01-01T00:00:00Z' },
    'gemma3-270m': { ttftS: 0.04, prefillTps: 100, decodeTps: 20, measuredAt: '2026-01-01T00:00:00Z' },
  },
  startedAt: '2026-01-01T00:00:00Z',
};

test('the local pool: real openai backbones at the server, keyless, measured latency, declared prices', () => {
  const pool = localPoolFor(record, { 'smollm2-135m': { in: 0.05, out: 0.1 }, '*': { in: 1, out: 2 } });
  assert.equal(pool.name, 'local');
  assert.equal(pool.simulated, false);
  assert.equal(pool.priceTableVersion, 'declared-by-user');
  assert.ok(pool.notes.some((n) => /declared by the user/.test(n)));
  assert.ok(pool.notes.some((n) => /gemma3-270m.*not instruction-tuned/.test(n)));
  const [smol, gemma] = pool.backbones;
  assert.deepEqual(
    {
      provider: smol!.provider,
      baseUrl: smol!.baseUrl,
      noApiKey: smol!.noApiKey,
      in: smol!.priceInPerMTok,
      decode: smol!.latency.decodeTps,
    },
    { provider: 'openai', baseUrl: record.baseUrl, noApiKey: true, in: 0.05, decode: 60 },
  );
  assert.equal(gemma!.priceOutPerMTok, 2);
  assert.equal(smol!.profile, undefined, 'abilities come from profiling only');
  const free = localPoolFor(record, {});
  assert.ok(free.backbones.every((b) => b.priceInPerMTok === 0 && b.priceOutPerMTok === 0));
  assert.match(free.priceTableVersion, /none/);
  // Keyless endpoints need no variable and send a placeholder.
  assert.doesNotThrow(() => assertApiKeys(free.backbones, {}));
  assert.equal(readApiKey(free.backbones[0]!, {}), 'no-key');
});

test('`--pool local` finds the pool file in the state folder', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ab-local-pool-'));
  const prev = process.env.AGENTBALANCE_STATE_DIR;
  process.env.AGENTBALANCE_STATE_DIR = dir;
  try {
    assert.throws(() => loadPool('local', dir), /local: no such pool.*agentbalance local up/);
    const file = writeLocalPool(localPoolFor(record, {}));
    assert.equal(file, path.join(dir, 'pools', 'local.yaml'));
    assert.match(readFileSync(file, 'utf8'), /^# Written by `agentbalance local up`/);
    assert.deepEqual(loadPool('local', os.tmpdir()), localPoolFor(record, {}));
  } finally {
    if (prev === undefined) delete process.env.AGENTBALANCE_STATE_DIR;
    else process.env.AGENTBALANCE_STATE_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local up: bad flags exit 2 with one line naming the flag, before installing anything', async () => {
  const errs: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (errs.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(['node', 'agentbalance', 'local', 'up', '--price', 'smollm2-135m=cheap']), 2);
    assert.equal(await main(['node', 'agentbalance', 'local', 'up', '--price', 'gpt-9=1,2']), 2);
    assert.equal(await main(['node', 'agentbalance', 'local', 'up', '--models', 'nope']), 2);
    assert.equal(await main(['node', 'agentbalance', 'local', 'up', '--threads', '0']), 2);
    assert.equal(await main(['node', 'agentbalance', 'local', 'up', '--gguf', 'mine=/nonexistent/m.gguf']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(errs[0]!, /--price smollm2-135m=cheap: expected ID=IN,OUT/);
  assert.match(errs[1]!, /--price gpt-9=…: unknown model gpt-9 \(served: smollm2-135m, gemma3-270m/);
  assert.match(errs[2]!, /--models: unknown model nope/);
  assert.match(errs[3]!, /--threads 0: expected an integer/);
  assert.match(errs[4]!, /--gguf mine=\/nonexistent\/m.gguf: no file at/);
});

test("node-llama-cpp: only this platform's prebuilt package is installed", () => {
  assert.equal(platformPackage('linux', 'x64'), '@node-llama-cpp/linux-x64');
  assert.equal(platformPackage('darwin', 'arm64'), '@node-llama-cpp/mac-arm64-metal');
  assert.equal(platformPackage('win32', 'x64'), '@node-llama-cpp/win-x64');
});
