import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseCampaignSpec, splitFingerprint, type CampaignMeta } from '../../core/campaign/spec';
import {
  openResultsStore,
  SCHEMA_SQL,
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

test('sqlite store: two processes writing the same file lose nothing', async () => {
  const file = path.join(tmp, 'shared.sqlite');
  const child = `
    const { openResultsStore } = require(${JSON.stringify(path.resolve(__dirname, '../../activities/results-store.ts'))});
    (async () => {
      const s = await openResultsStore({ sqlitePath: ${JSON.stringify(file)} });
      const mk = (i) => ({ campaignId: 'cc', runKeyId: 'child-' + i, method: 'star', budgetKind: 'latency', budget: 5, taskId: 't' + i,
        correct: true, costUsd: 0.001, latencyS: 2, deadlineHit: false, budgetExhausted: false, simulated: true, agents: [], finishedAt: 'now' });
      for (let i = 0; i < 40; i++) await s.upsertRun(mk(i));
      await s.close();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', child], { stdio: ['ignore', 'inherit', 'inherit'] });
  const done = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? 1)));
  const s = await openResultsStore({ sqlitePath: file });
  for (let i = 0; i < 40; i++) await s.upsertRun(row(i, { campaignId: 'cc', runKeyId: `parent-${i}` }));
  assert.equal(await done, 0);
  const runs = await s.getRuns('cc');
  await s.close();
  assert.equal(runs.filter((r) => r.runKeyId.startsWith('parent-')).length, 40);
  assert.equal(runs.filter((r) => r.runKeyId.startsWith('child-')).length, 40);
});

test('the SQL is one text for both backends: upsert on the (campaign, run key) primary key', () => {
  assert.match(UPSERT_RUN_SQL, /^INSERT INTO ab_runs \(campaign_id, run_key_id, method, budget_kind, budget, task_id, correct,/);
  assert.match(UPSERT_RUN_SQL, /VALUES \(\$1, \$2, .*\$14\)/);
  assert.match(
    UPSERT_RUN_SQL,
    /ON CONFLICT \(campaign_id, run_key_id\) DO UPDATE SET method = excluded\.method, .*finished_at = excluded\.finished_at$/s,
  );
  assert.ok(!/campaign_id = excluded/.test(UPSERT_RUN_SQL));
  assert.ok(SCHEMA_SQL.some((s) => /PRIMARY KEY \(campaign_id, run_key_id\)/.test(s)));
  const p = runParams(row(3));
  assert.equal(p.length, 14);
  assert.deepEqual(p.slice(0, 7), ['c1', 'chain|cost|0.001|t3', 'chain', 'cost', 0.001, 't3', 0]);
});

// ---- PostgreSQL: a throwaway local server when the binaries are there, else skipped.

interface PgServer {
  url: string;
  stop: () => void;
}

function startPostgres(): PgServer | undefined {
  const which = (b: string): boolean => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0;
  if (!which('initdb') || !which('pg_ctl')) return undefined;
  const root = process.getuid?.() === 0;
  if (root && (!which('runuser') || spawnSync('id', ['postgres']).status !== 0)) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-pg-'));
  const asPg = (cmd: string, args: string[]): void => {
    if (root) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
    else execFileSync(cmd, args, { stdio: 'ignore' });
  };
  try {
    if (root) execFileSync('chown', ['postgres', dir]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    asPg('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
    asPg('pg_ctl', [
      '-D',
      path.join(dir, 'data'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-l',
      path.join(dir, 'log'),
      '-w',
      'start',
    ]);
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop: () => {
        try {
          asPg('pg_ctl', ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

let pg: PgServer | undefined;
before(() => {
  pg = startPostgres();
});
after(() => pg?.stop());

test('postgres store meets the same contract (throwaway local server)', async (t) => {
  if (!pg) {
    t.skip('no local PostgreSQL binaries: only the SQL text is tested');
    return;
  }
  const url = pg.url;
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
});
