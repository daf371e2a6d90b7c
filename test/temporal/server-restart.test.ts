import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-restart-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { Client, Connection } from '@temporalio/client';
import { CampaignSpecSchema } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { resultsStore } from '../../activities/campaign';
import { startOrReuseDevServer, type DevServer } from '../../infra/dev-server';
import type { CampaignSummary } from '../../workflows/campaign';
import { freePort } from '../../infra/net';
import { waitForHistory } from '../support/wait';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
  rmSync(STATE, { recursive: true, force: true });
});

test('the dev server restarts mid-campaign (SQLite in the state folder): nothing is lost or duplicated', async () => {
  const port = await freePort();
  const uiPort = await freePort();
  let server: DevServer = await startOrReuseDevServer({ port, uiPort, log: () => {} });
  cleanup.push(() => server.stop());
  assert.equal(server.owned, true);

  const worker: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-process.ts')], {
    env: { ...process.env, TEMPORAL_TEST_ADDRESS: server.address, WORKER_PROVIDER: 'real', AGENTBALANCE_STATE_DIR: STATE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.push(() => void worker.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    worker.once('exit', (c) => reject(new Error(`worker exited (${c})`)));
  });

  const connect = async () => new Client({ connection: await Connection.connect({ address: server.address }) });
  let client = await connect();
  const spec = CampaignSpecSchema.parse({
    benchmark: 'sample-math',
    limit: 8,
    methods: ['chain', 'single:gpt-4o-mini'],
    costBudgets: [0.001],
    concurrency: 2,
    seed: 'restart',
    // Real waiting (1/50 of simulated time) so the campaign is still running when the server stops.
    simulation: { timeFactor: 0.02, rate429: 0, rate5xx: 0, seed: 'restart' },
  });
  const campaignId = 'restart-campaign';
  await client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: campaignId, args: [{ campaignId, spec }] });
  // Stop the server once three runs have completed (the campaign is then under way).
  await waitForHistory(client.workflow.getHandle(campaignId), (ev) => ev.filter((e) => e.childWorkflowExecutionCompletedEventAttributes).length >= 3);

  await client.connection.close();
  await server.stop();
  server = await startOrReuseDevServer({ port, uiPort, log: () => {} });
  assert.equal(server.owned, true, 'a fresh server process on the same SQLite file');
  client = await connect();
  cleanup.push(() => client.connection.close());

  const summary = (await client.workflow.getHandle(campaignId).result()) as CampaignSummary;
  assert.equal(summary.done, 16);
  const rows = await (await resultsStore()).getRuns(campaignId, { agents: false });
  assert.equal(rows.length, 16);
  assert.equal(new Set(rows.map((r) => r.runKeyId)).size, 16);
});
