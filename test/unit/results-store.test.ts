import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { Pool } from 'pg';
import { startPostgres, type PgServer } from '../support/postgres';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseCampaignSpec, splitFingerprint, type CampaignMeta } from '../../core/campaign/spec';
import {
  MIGRATIONS,
  openResultsStore,
  SCHEMA_SQL,
  SCHEMA_VERSION,
  UPSERT_RUN_SQL,
  runParams,
  type ResultsStore,
  type RunRow,
} from '../../activities/results-store';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-results-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function row(i: number, over: Partial<RunRow> = {}): RunRow {
  return {
    campaignId: 'c1',
    runKeyId: `chain|cost|0.001|t${i}`,
    method: 'chain',
    budgetKind: 'cost',
    budget: 0.001,
    taskId: `t${i}`,
    correct: i % 2 === 0,
    costUsd: 0.0004,
    latencyS: 3.5,
    deadlineHit: false,
    budgetExhausted: i % 5 === 0,
    simulated: true,
    agents: [
      {
        id: 'decision',
        role: 'decision',
        backbone: 'gpt-4o-mini',
        status: 'ok',
        inputTokens: 100,
        outputTokens: 50,
        costUsd: 0.0004,
        latencyS: 3.5,
        startS: 0,
        finishS: 3.5,
        maxTokens: 512,
        attempts: 1,
        text: 'x'.repeat(2000),
      },
    ],
    finishedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

function meta(id: string, createdAt = '2025-01-01T00:00:00Z'): CampaignMeta {
  return {
    id,
    spec: parseCampaignSpec({ benchmark: 'sample-math', methods: ['chain'], costBudgets: [0.001] }),
    methods: ['chain'],
    pool: { name: 'sim-14', simulated: true, priceTableVersion: '2025-06' },
    taskIds: ['t0', 't1'],
    splitFingerprint: splitFingerprint(['t0', 't1']),
    codeVersion: 'abc123',
    createdAt,
    status: 'running',
    artifacts: {},
  };
}

/** The contract every backend meets; `fresh` opens a store on an empty database. */
async function contract(fresh: () => Promise<ResultsStore>, reopen: () => Promise<ResultsStore>): Promise<void> {
  const s = await fresh();
  try {
    await s.upsertRun(row(1));
    await s.upsertRun(row(1, { correct: false, costUsd: 0.0009 }));
    let runs = await s.getRuns('c1');
    assert.equal(runs.length, 1, 'upsert twice = one row');
    assert.equal(runs[0]!.correct, false, 'the retry wins');
    assert.equal(runs[0]!.costUsd, 0.0009);
    assert.equal(runs[0]!.simulated, true);
    assert.equal(runs[0]!.budgetExhausted, false);
    assert.equal(runs[0]!.agents[0]!.text!.length, 501, 'agent texts truncated to 500 chars + ellipsis');
    await s.upsertRun(row(2, { correct: null }));
    runs = await s.getRuns('c1', { agents: false });
    assert.equal(runs.find((r) => r.taskId === 't2')!.correct, null);
    assert.deepEqual(runs[0]!.agents, []);
    assert.deepEqual([...(await s.completedRunKeys('c1'))].sort(), ['chain|cost|0.001|t1', 'chain|cost|0.001|t2']);
    assert.deepEqual(await s.completedRunKeys('other'), new Set());
    await s.saveCampaign(meta('c1'));
    await s.saveCampaign({ ...meta('c1'), status: 'completed', finishedAt: '2025-01-02T00:00:00Z' });
    await s.saveCampaign(meta('c0', '2024-12-31T00:00:00Z'));
    assert.equal((await s.getCampaign('c1'))!.status, 'completed');
    assert.equal(await s.getCampaign('nope'), undefined);
    const list = await s.listCampaigns();
    assert.deepEqual(
      list.map((l) => [l.meta.id, l.runs]),
      [
        ['c0', 0],
        ['c1', 2],
      ],
    );
    // Concurrent upserts (and retries of the same keys) all land exactly once.
    await Promise.all(
      Array.from({ length: 120 }, (_, i) => s.upsertRun(row(100 + (i % 60), { campaignId: 'c2', runKeyId: `k${i % 60}` }))),
    );
    assert.equal((await s.getRuns('c2')).length, 60);
    // Forgetting one method's runs of one campaign leaves every other row.
    await s.upsertRuns([0, 1, 2].map((i) => row(200 + i, { campaignId: 'c3', method: 'cot-sc', runKeyId: `cot-sc|${i}` })));
    await s.upsertRun(row(210, { campaignId: 'c3', runKeyId: 'chain|0' }));
    await s.upsertRun(row(211, { campaignId: 'c4', method: 'cot-sc', runKeyId: 'cot-sc|0' }));
    assert.equal(await s.deleteRuns('c3', ['cot-sc', 'not-there']), 3);
    assert.deepEqual([...(await s.completedRunKeys('c3'))], ['chain|0']);
    assert.equal((await s.getRuns('c4')).length, 1, 'the same method in another campaign is kept');
    assert.equal(await s.deleteRuns('c3', []), 0);
    await assert.rejects(s.upsertRun({ ...row(1), budgetKind: 'money' as 'cost' }));
    await assert.rejects(s.upsertRun({ ...row(1), costUsd: Number.NaN }));
  } finally {
    await s.close();
  }
  const again = await reopen();
  try {
    assert.equal((await again.getRuns('c1')).length, 2, 'data persists after reopening');
    assert.equal((await again.getRuns('c2')).length, 60);
    assert.equal((await again.getCampaign('c1'))!.codeVersion, 'abc123');
  } finally {
    await again.close();
  }
}

test('sqlite store: upsert idempotence, persistence, concurrency, campaigns', async () => {
  const file = path.join(tmp, 'a', 'results.sqlite');
  await contract(
    () => openResultsStore({ sqlitePath: file }),
    () => openResultsStore({ sqlitePath: file }),
  );
  assert.ok(fs.readFileSync(file).subarray(0, 16).toString('latin1').startsWith('SQLite format 3'));
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['results.sqlite'], 'no temp or lock files left');
});

/** Writes `n` runs from a separate process, starting when `go` exists (so both writers overlap). */
function writerProcess(target: { sqlitePath?: string; databaseUrl?: string }, prefix: string, n: number, go: string) {
  const child = `
    const fs = require('node:fs');
    const { openResultsStore } = require(${JSON.stringify(path.resolve(__dirname, '../../activities/results-store.ts'))});
    (async () => {
      const s = await openResultsStore(${JSON.stringify(target)});
      process.stdout.write('open\\n');
      while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
      const mk = (i) => ({ campaignId: 'cc', runKeyId: ${JSON.stringify(prefix)} + i, method: 'star', budgetKind: 'latency', budget: 5, taskId: 't' + i,
        correct: true, costUsd: 0.001, latencyS: 2, deadlineHit: false, budgetExhausted: false, simulated: true, agents: [], finishedAt: 'now' });
      await Promise.all(Array.from({ length: ${n} }, (_, i) => s.upsertRun(mk(i))));
      await s.close();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? 1)));
  // Resolves once the child has opened the store (or rejects when it exits without doing so).
  const opened = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
    void exited.then((code) => reject(new Error(`writer ${prefix} exited (${code}) before opening the store`)));
  });
  return { opened, exited };
}

/** Two processes and this one write the same store at the same moment; every row lands once. */
async function concurrentWriters(target: { sqlitePath?: string; databaseUrl?: string }): Promise<void> {
  const go = path.join(fs.mkdtempSync(path.join(tmp, 'go-')), 'go');
  const a = writerProcess(target, 'a-', 300, go);
  const b = writerProcess(target, 'b-', 300, go);
  const s = await openResultsStore(target);
  await Promise.all([a.opened, b.opened]); // all three hold the store open, then write at once
  fs.writeFileSync(go, '');
  await Promise.all(Array.from({ length: 100 }, (_, i) => s.upsertRun(row(i, { campaignId: 'cc', runKeyId: `parent-${i}` }))));
  assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
  const keys = [...(await s.completedRunKeys('cc'))];
  const totals = await s.campaignTotals('cc');
  await s.close();
  assert.equal(keys.filter((k) => k.startsWith('a-')).length, 300);
  assert.equal(keys.filter((k) => k.startsWith('b-')).length, 300);
  assert.equal(keys.filter((k) => k.startsWith('parent-')).length, 100);
  assert.equal(totals.runs, 700);
}

test('sqlite store: two processes writing the same file at once lose nothing', async () => {
  await concurrentWriters({ sqlitePath: path.join(tmp, 'shared.sqlite') });
});

test('sqlite store: a database from before schema versioning is upgraded; a newer one is refused', async () => {
  const file = path.join(tmp, 'v1.sqlite');
  const v1 = new Database(file);
  for (const sql of MIGRATIONS[0]!.sql) v1.exec(sql);
  v1.prepare(
    `INSERT INTO ab_runs VALUES ('old', 'k1', 'chain', 'cost', 0.001, 't1', 1, 0.0002, 1.5, 0, 0, 1, '[]', '2024-01-01')`,
  ).run();
  v1.close();
  const s = await openResultsStore({ sqlitePath: file });
  const runs = await s.getRuns('old');
  assert.equal(runs.length, 1, 'the old row survives the upgrade');
  assert.equal(runs[0]!.error, undefined);
  await s.upsertRun(row(5, { campaignId: 'old', runKeyId: 'k2', error: { class: 'BadRecord', message: 'line 3: no answer' } }));
  assert.deepEqual((await s.getRuns('old')).find((r) => r.runKeyId === 'k2')!.error, { class: 'BadRecord', message: 'line 3: no answer' });
  assert.deepEqual(await s.campaignTotals('old'), { runs: 2, correct: 1, failed: 1, costUsd: 0.0002 + 0.0004 });
  await s.close();
  const db = new Database(file);
  assert.equal(db.prepare('SELECT MAX(version) FROM ab_schema').pluck().get(), SCHEMA_VERSION);
  db.prepare('UPDATE ab_schema SET version = ?').run(SCHEMA_VERSION + 1);
  db.close();
  await assert.rejects(openResultsStore({ sqlitePath: file }), /schema version \d+, newer than this agentbalance understands/);
});

test('the SQL is one text for both backends: upsert on the (campaign, run key) primary key', () => {
  assert.match(UPSERT_RUN_SQL, /^INSERT INTO ab_runs \(campaign_id, run_key_id, method, budget_kind, budget, task_id, correct,/);
  assert.match(UPSERT_RUN_SQL, /VALUES \(\$1, \$2, .*\$16\)/);
  assert.match(
    UPSERT_RUN_SQL,
    /ON CONFLICT \(campaign_id, run_key_id\) DO UPDATE SET method = excluded\.method, .*error_message = excluded\.error_message$/s,
  );
  assert.ok(!/campaign_id = excluded/.test(UPSERT_RUN_SQL));
  assert.ok(SCHEMA_SQL.some((s) => /PRIMARY KEY \(campaign_id, run_key_id\)/.test(s)));
  const p = runParams(row(3));
  assert.equal(p.length, 16);
  assert.deepEqual(p.slice(14), [null, null], 'no error on a finished run');
  assert.deepEqual(runParams(row(3, { error: { class: 'BadRecord', message: 'x' } })).slice(14), ['BadRecord', 'x']);
  assert.deepEqual(p.slice(0, 7), ['c1', 'chain|cost|0.001|t3', 'chain', 'cost', 0.001, 't3', 0]);
});

// ---- PostgreSQL: a throwaway local server (test/support/postgres.ts); required in CI.

let pg: PgServer | undefined;
before(async () => {
  pg = await startPostgres();
});
after(() => pg?.stop());

test('postgres store meets the same contract (throwaway local server)', async (t) => {
  if (!pg) {
    t.skip('no local PostgreSQL binaries (never skipped in CI): only the SQL text is tested');
    return;
  }
  const url = pg.url;
  await concurrentWriters({ databaseUrl: url });
  await contract(
    () => openResultsStore({ databaseUrl: url }),
    () => openResultsStore({ databaseUrl: url }),
  );
  // AGENTBALANCE_DATABASE_URL selects postgres when no path is given.
  process.env.AGENTBALANCE_DATABASE_URL = url;
  try {
    const s = await openResultsStore();
    assert.equal(s.kind, 'postgres');
    assert.equal((await s.getRuns('c1')).length, 2);
    await s.close();
  } finally {
    delete process.env.AGENTBALANCE_DATABASE_URL;
  }
  await assert.rejects(openResultsStore({ databaseUrl: 'mysql://x' }), /must be a postgres:\/\/ URL/);
  // A database created by the first release (no ab_schema) is upgraded in place; a newer one refused.
  const admin = new Pool({ connectionString: url });
  await admin.query('CREATE DATABASE ab_old');
  await admin.end();
  const oldUrl = url.replace(/\/postgres$/, '/ab_old');
  const old = new Pool({ connectionString: oldUrl });
  for (const sql of MIGRATIONS[0]!.sql) await old.query(sql);
  await old.query(`INSERT INTO ab_runs VALUES ('old', 'k1', 'chain', 'cost', 0.001, 't1', 1, 0.0002, 1.5, 0, 0, 1, '[]', '2024-01-01')`);
  const up = await openResultsStore({ databaseUrl: oldUrl });
  assert.equal((await up.getRuns('old')).length, 1);
  await up.close();
  assert.equal((await old.query('SELECT MAX(version) AS v FROM ab_schema')).rows[0].v, SCHEMA_VERSION);
  await old.query('UPDATE ab_schema SET version = $1', [SCHEMA_VERSION + 1]);
  await old.end();
  await assert.rejects(openResultsStore({ databaseUrl: oldUrl }), /newer than this agentbalance understands/);
});
