import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-designer-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parsePoolProfile } from '../../core/profiling/pool-profile';
import { TrainedDesignerSchema } from '../../core/designer/trained-designer';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import { startTestTemporal, testNamespace, uid } from '../support/temporal';

let env: TestWorkflowEnvironment;
let workers: RunningWorkers;

before(async () => {
  env = await startTestTemporal();
  workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) }, env.nativeConnection);
});
after(async () => {
  await workers?.shutdown();
  await env?.teardown();
  rmSync(STATE, { recursive: true, force: true });
});

test('profile workflow: every backbone alone on the profile split, then a fitted, versioned pool profile', async () => {
  const res = await env.client.workflow.execute('profilePool', {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: uid('profile'),
    args: [{ pool: 'sim-14', benchmark: 'sample-math', seed: '0', limit: 4, concurrency: 16 }],
  });
  assert.ok(existsSync(res.file));
  const profile = parsePoolProfile(JSON.parse(readFileSync(res.file, 'utf8')));
  assert.equal(profile.backbones.length, 14);
  assert.equal(profile.source, 'profiling');
  assert.equal(res.report.items, 4);
  // Stronger backbones come out with higher fitted ability than the weakest on average.
  const ability = new Map(profile.backbones.map((b) => [b.id, b.ability.math ?? 0]));
  assert.ok(Number.isFinite(ability.get('o4-mini')!) && Number.isFinite(ability.get('llama-3.1-8b')!));
});

test('keyed profiling: small inputs, continue-as-new in batches, a rerun under the same id skips every stored call', async () => {
  const profileId = uid('profile-keys');
  const args = { pool: 'sim-14', benchmark: 'sample-math', seed: '0', limit: 4, concurrency: 8, profileId, runsPerHistory: 20 };
  const first = await env.client.workflow.start('profilePool', { taskQueue: MAIN_TASK_QUEUE, workflowId: profileId, args: [args] });
  const res = (await first.result()) as { file: string; observations: number; report: { items: number } };
  assert.equal(res.observations, 14 * 4, 'every (backbone, query) stored once');
  assert.equal(res.report.items, 4);
  const history = await env.client.workflow.getHandle(profileId, first.firstExecutionRunId).fetchHistory();
  assert.ok(history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run continued as new');
  // Nothing that crosses Temporal carries the queries: the largest payload stays small.
  const largest = Math.max(...(history.events ?? []).map((e) => JSON.stringify(e).length));
  assert.ok(largest < 8000, `largest history event ${largest} bytes`);
  // Same id again: every observation is in the store, so no child runs and the same fit.
  const again = await env.client.workflow.start('profilePool', { taskQueue: MAIN_TASK_QUEUE, workflowId: profileId, args: [args], workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
  const res2 = (await again.result()) as { observations: number };
  assert.equal(res2.observations, 56);
  const h2 = await again.fetchHistory();
  assert.equal((h2.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 0);
});

test('design workflow trains a designer tied to the current pool profile', async () => {
  const res = await env.client.workflow.execute('designPool', {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: uid('design'),
    args: [{ pool: 'sim-14', benchmark: 'sample-math', seed: '0', steps: 5 }],
  });
  const designer = TrainedDesignerSchema.parse(JSON.parse(readFileSync(res.file, 'utf8')));
  assert.equal(designer.profileHash, res.profileHash);
  assert.ok(designer.curve.length >= 1);
});
