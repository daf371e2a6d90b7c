// Campaign results in PostgreSQL with two worker processes writing at once (#15 item 3): every run
// is stored exactly once. Runs against a throwaway server (test/support/postgres.ts); required in CI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-campaign-pg-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CampaignSpecSchema } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { openResultsStore } from '../../activities/results-store';
import type { CampaignSummary } from '../../workflows/campaign';
import { startPostgres, type PgServer } from '../support/postgres';
import { startTestTemporal, uid, workerProcessEnv } from '../support/temporal';

let env: TestWorkflowEnvironment;
let pg: PgServer | undefined;
const children: ChildProcess[] = [];

before(async () => {
  pg = await startPostgres();
  env = await startTestTemporal();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
  pg?.stop();
  rmSync(STATE, { recursive: true, force: true });
});

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-process.ts')], {
    env: workerProcessEnv(env, { WORKER_PROVIDER: 'real', AGENTBALANCE_STATE_DIR: STATE, AGENTBALANCE_DATABASE_URL: url }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

test('two worker processes write one campaign to PostgreSQL at once: every run stored exactly once', async (t) => {
  if (!pg) {
    t.skip('no local PostgreSQL binaries (never skipped in CI)');
    return;
  }
  const url = pg.url;
  const [a, b] = await Promise.all([startWorker(url), startWorker(url)]);
  const spec = CampaignSpecSchema.parse({
    benchmark: 'sample-math',
    limit: 10,
    methods: ['chain', 'single:gpt-4o-mini'],
    costBudgets: [0.0005, 0.005],
    concurrency: 8,
    // Two runs per child: twenty children, spread over both workers.
    runsPerChild: 2,
    seed: 'pg',
  });
  const campaignId = uid('cpg');
  const handle = await env.client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: campaignId, args: [{ campaignId, spec, runsPerHistory: 15 }] });
  const summary = (await handle.result()) as CampaignSummary;
  assert.equal(summary.done, 40);
  assert.equal(summary.failed, 0);
  const store = await openResultsStore({ databaseUrl: url });
  try {
    const rows = await store.getRuns(campaignId, { agents: false });
    assert.equal(rows.length, 40);
    assert.equal(new Set(rows.map((r) => r.runKeyId)).size, 40);
    assert.equal((await store.getCampaign(campaignId))?.status, 'completed');
  } finally {
    await store.close();
  }
  // Both workers took part (Temporal spreads the child runs' tasks over the pollers).
  const identities = new Set<string>();
  for await (const e of env.client.workflow.list({ query: `WorkflowType = 'campaignBatch'` })) {
    if (!e.workflowId.startsWith(campaignId)) continue;
    const d = await env.client.workflow.getHandle(e.workflowId).fetchHistory();
    for (const ev of d.events ?? []) if (ev.workflowTaskStartedEventAttributes?.identity) identities.add(ev.workflowTaskStartedEventAttributes.identity);
    if (identities.size >= 2) break;
  }
  assert.ok(identities.size >= 2, `runs executed by ${[...identities].join(', ')}`);
  a.kill('SIGTERM');
  b.kill('SIGTERM');
});
