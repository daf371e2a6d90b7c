import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The results store and reports go to a temp state folder (read when first used).
const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-campaign-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CampaignSpecSchema, type CampaignSpec } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { resultsStore } from '../../activities/campaign';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import type { CampaignArgs, CampaignProgress, CampaignSummary } from '../../workflows/campaign';
import { startTestTemporal, testNamespace, uid, workerProcessEnv } from '../support/temporal';
import { until, waitForHistory, type HistoryEvent } from '../support/wait';

let env: TestWorkflowEnvironment;
let workers: RunningWorkers | undefined;
const children: ChildProcess[] = [];

before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await workers?.shutdown();
  await env?.teardown();
  rmSync(STATE, { recursive: true, force: true });
});

async function inProcessWorkers(): Promise<void> {
  workers ??= await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) }, env.nativeConnection);
}

function spec(over: Partial<Record<keyof CampaignSpec, unknown>> = {}): CampaignSpec {
  return CampaignSpecSchema.parse({
    benchmark: 'sample-math',
    limit: 3,
    methods: ['chain', 'single:gpt-4o-mini', 'cascade'],
    costBudgets: [0.0005, 0.005],
    concurrency: 4,
    seed: 't',
    ...over,
  });
}

async function start(args: CampaignArgs) {
  return env.client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: args.campaignId, args: [args] });
}

const progress = (handle: WorkflowHandle) => handle.query<CampaignProgress>('progress');

/** Indexes of the history's `name` signals, in order. */
const signalled = (events: HistoryEvent[], name: string): number[] =>
  events.flatMap((e, i) => (e.workflowExecutionSignaledEventAttributes?.signalName === name ? [i] : []));

async function storedRuns(campaignId: string) {
  return (await resultsStore()).getRuns(campaignId, { agents: false });
}

describe('campaign workflow on a real Temporal dev server', () => {
  test('runs every (method, budget, query) once, reports progress, stores and reports results', async () => {
    await inProcessWorkers();
    const campaignId = uid('c');
    const handle = await start({ campaignId, spec: spec() });
    // The total is known once the campaign has prepared (before that the query answers total 0).
    const sawProgress = await until('the campaign to report its total', async () => {
      const p = await progress(handle).catch(() => undefined); // no answer before its first workflow task
      return p && p.total > 0 ? p : undefined;
    });
    assert.equal(sawProgress.total, 3 * 2 * 3);
    const summary = (await handle.result()) as CampaignSummary;
    assert.equal(summary.done, 18);
    assert.equal(summary.simulated, true);
    const rows = await storedRuns(campaignId);
    assert.equal(rows.length, 18);
    assert.equal(new Set(rows.map((r) => r.runKeyId)).size, 18);
    // Cost budgets are enforced: no run spent more than its budget.
    for (const r of rows) assert.ok(r.costUsd <= r.budget, `${r.runKeyId} spent ${r.costUsd}`);
    assert.ok(Math.abs(summary.spentUsd - rows.reduce((s, r) => s + r.costUsd, 0)) < 1e-12);
    assert.deepEqual(Object.keys(summary.auc.cost ?? {}).sort(), ['cascade', 'chain', 'single:gpt-4o-mini']);
    for (const f of [summary.reportFiles.markdown, summary.reportFiles.json, ...summary.reportFiles.charts]) assert.ok(existsSync(f), f);
  });

  test('continues as new to bound history, without losing or repeating runs', async () => {
    await inProcessWorkers();
    const campaignId = uid('c');
    const handle = await start({ campaignId, spec: spec({ methods: ['single:gpt-4.1-nano', 'single:llama-3.1-8b'] }), runsPerHistory: 4 });
    const summary = (await handle.result()) as CampaignSummary;
    assert.equal(summary.done, 12);
    const first = await env.client.workflow.getHandle(campaignId, handle.firstExecutionRunId).fetchHistory();
    const last = first.events?.at(-1);
    assert.ok(last?.workflowExecutionContinuedAsNewEventAttributes, 'the first run continued as new');
    const rows = await storedRuns(campaignId);
    assert.equal(rows.length, 12);
    assert.equal(new Set(rows.map((r) => r.runKeyId)).size, 12);
  });

  test('pause holds new runs, resume continues, cancel stops early and still reports', async () => {
    await inProcessWorkers();
    const campaignId = uid('c');
    // One run per child, so pause and cancel fall between runs (a batch of 16 would be most of it).
    const handle = await start({ campaignId, spec: spec({ limit: 10, concurrency: 1, methods: ['chain'], runsPerChild: 1 }) });
    await handle.signal('pause');
    // Held: prepared, paused, and the run that was in flight (if any) has finished.
    const a = await until('the paused campaign to have no run in flight', async () => {
      const p = await progress(handle).catch(() => undefined);
      return p?.paused && p.total > 0 && p.running === 0 ? p : undefined;
    });
    // Wake the paused workflow (a signal is a workflow task) and wait until that task completed.
    await handle.signal('pause');
    const events = await waitForHistory(handle, (ev) => {
      const second = signalled(ev, 'pause')[1];
      return second !== undefined && ev.slice(second).some((e) => e.workflowTaskCompletedEventAttributes);
    });
    // Every workflow task after the one that took the pause (child completions, the wake-up)
    // started no run.
    const pausedAt = signalled(events, 'pause')[0]!;
    const tookPause = events.findIndex((e, i) => i > pausedAt && e.workflowTaskCompletedEventAttributes);
    const startedWhilePaused = events.slice(tookPause + 1).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
    assert.deepEqual(startedWhilePaused.map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId), [], 'no run started while paused');
    const b = await progress(handle);
    assert.equal(b.paused, true);
    assert.equal(b.done, a.done, 'no run finished while paused');
    assert.ok(b.done < b.total);
    await handle.signal('resume');
    await until('a run to finish after resume', async () => ((await progress(handle)).done > b.done ? true : undefined));
    await handle.signal('cancel');
    const summary = (await handle.result()) as CampaignSummary;
    assert.equal(summary.cancelled, true);
    assert.ok(summary.done < summary.total, `${summary.done} < ${summary.total}`);
    assert.equal((await storedRuns(campaignId)).length, summary.done);
  });

  test('a worker crash mid-campaign loses and duplicates nothing', async () => {
    // This test runs its own worker process (and none in-process), so it can be killed.
    await workers?.shutdown();
    workers = undefined;
    const startWorker = (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-process.ts')], {
        env: workerProcessEnv(env, { WORKER_PROVIDER: 'real', AGENTBALANCE_STATE_DIR: STATE }),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
        child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      });
    };
    const first = await startWorker();
    const campaignId = uid('c');
    const handle = await start({ campaignId, spec: spec({ limit: 8, methods: ['chain', 'single:gpt-4o-mini'], concurrency: 2, runsPerChild: 2 }) });
    // Crash the worker once two children (four runs) have completed: the campaign is under way.
    await waitForHistory(handle, (ev) => ev.filter((e) => e.childWorkflowExecutionCompletedEventAttributes).length >= 2);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await startWorker();
    const summary = (await handle.result()) as CampaignSummary;
    assert.equal(summary.done, 32);
    const rows = await storedRuns(campaignId);
    assert.equal(rows.length, 32);
    assert.equal(new Set(rows.map((r) => r.runKeyId)).size, 32);
  });
});
