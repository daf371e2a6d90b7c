// No run can fail a campaign (#11 item 2, #10 item 2): child runs that fail for any reason are
// stored as failed runs and counted; the campaign completes; nothing fails a workflow task in a loop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-campaign-fail-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { CampaignSpecSchema, parseRunKeyId } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { planRun, recordRun, resultsStore } from '../../activities/campaign';
import { callAgent } from '../../activities/call-agent';
import { gradeAnswer } from '../../activities/grading';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../../workers/worker';
import type { CampaignSummary } from '../../workflows/campaign';
import { startTestTemporal, testNamespace, uid } from '../support/temporal';

let env: TestWorkflowEnvironment;
let workers: RunningWorkers;

// sample-math's first four test-split queries are used; faults are injected by task position.
const faultOf = new Map<string, string>();
let downQuestion: string | undefined;

before(async () => {
  env = await startTestTemporal();
  workers = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) },
    env.nativeConnection,
    {
      planRun: async (campaignId, runKeyId) => {
        const fault = faultOf.get(parseRunKeyId(runKeyId).taskId);
        // A bad dataset record: the planner rejects it.
        if (fault === 'bad-record')
          throw ApplicationFailure.nonRetryable('sample-math line 2: answer is not a number', 'BadRecord');
        const plan = await planRun(campaignId, runKeyId);
        // A record that yields an invalid MAS: runMas itself rejects its input.
        if (fault === 'invalid-mas')
          return { ...plan, input: { ...plan.input, spec: { ...plan.input.spec, decision: 'nobody' } } };
        return plan;
      },
      // The provider is down for one query: every call fails after the workflow's retries.
      callAgent: async (input) => {
        if (downQuestion && input.messages.some((m) => typeof m.content === 'string' && m.content.includes(downQuestion!))) {
          throw ApplicationFailure.nonRetryable('HTTP 503: upstream unavailable', 'ProviderError', {
            retryable: false,
            costUsd: 0,
          });
        }
        return callAgent(input);
      },
      // The grader crashes on one query (after its retries).
      gradeAnswer: async (task, text) => {
        if (faultOf.get(task.id) === 'grader-crash') throw new TypeError('grader: cannot read properties of undefined');
        return gradeAnswer(task, text);
      },
      // One child fails outside its own error handling (its result cannot be stored the first time).
      recordRun: async (campaignId, runKeyId, result) => {
        if (faultOf.get(parseRunKeyId(runKeyId).taskId) === 'store-once' && !faultOf.has(`seen:${campaignId}:${runKeyId}`)) {
          faultOf.set(`seen:${campaignId}:${runKeyId}`, 'x');
          throw ApplicationFailure.nonRetryable('disk I/O error', 'SqliteError');
        }
        return recordRun(campaignId, runKeyId, result);
      },
    },
  );
});
after(async () => {
  await workers?.shutdown();
  await env?.teardown();
  rmSync(STATE, { recursive: true, force: true });
});

describe('failing child runs never fail a campaign', () => {
  // One run per child workflow, or two (CAMPAIGN_BATCHES_PATCH), where a run the batch cannot store
  // is stored by the parent and the batch's other run is unaffected.
  for (const [perChild, shape] of [
    [1, 'one run per child'],
    [2, 'runs batched per child'],
  ] as const)
    test(`bad record, invalid MAS, grader crash, provider down and a failed store write (${shape}): the campaign completes and counts them`, async () => {
      const spec = CampaignSpecSchema.parse({
        benchmark: 'sample-math',
        limit: 6,
        methods: ['single:gpt-4o-mini'],
        costBudgets: [0.005],
        concurrency: 3,
        runsPerChild: perChild,
        seed: 'f',
      });
      const { campaignTasks } = await import('../../activities/campaign');
      const tasks = (await campaignTasks(spec)).selected;
      const [t0, t1, t2, t3, t4] = tasks.map((t) => t.id);
      faultOf.set(t0!, 'bad-record').set(t1!, 'invalid-mas').set(t2!, 'grader-crash').set(t4!, 'store-once');
      downQuestion = tasks.find((t) => t.id === t3)!.question;
      const campaignId = uid('cf');
      const handle = await env.client.workflow.start('campaign', {
        taskQueue: MAIN_TASK_QUEUE,
        workflowId: campaignId,
        args: [{ campaignId, spec }],
      });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.total, 6);
      assert.equal(summary.done, 6, 'every run is accounted for');
      assert.equal(summary.failed, 4, 'bad record, invalid MAS, grader crash and the failed child');

      const rows = await (await resultsStore()).getRuns(campaignId, { agents: true });
      assert.equal(rows.length, 6);
      const byTask = new Map(rows.map((r) => [r.taskId, r]));
      assert.deepEqual(byTask.get(t0!)!.error, { class: 'BadRecord', message: 'sample-math line 2: answer is not a number' });
      assert.equal(byTask.get(t1!)!.error?.class, 'InvalidMasSpec');
      assert.match(byTask.get(t2!)!.error!.message, /grader: cannot read properties/);
      assert.equal(
        byTask.get(t4!)!.error?.class,
        'SqliteError',
        'the parent stored the child that failed outside its own handling',
      );
      for (const r of rows.filter((x) => x.error)) assert.equal(r.correct, false);
      // Provider down: the run itself completes (no answer, its agent failed) and is stored as a wrong answer.
      const down = byTask.get(tasks[3]!.id)!;
      assert.equal(down.error, undefined);
      assert.equal(down.correct, false);
      assert.equal(down.agents[0]!.status, 'failed');
      assert.match(down.agents[0]!.error ?? '', /503/);

      // The report has a `failed` column and counts them.
      const report = JSON.parse(readFileSync(summary.reportFiles.json, 'utf8')) as { metrics: { points: { failed: number }[] } };
      assert.equal(
        report.metrics.points.reduce((s, p) => s + p.failed, 0),
        4,
      );
      assert.match(readFileSync(summary.reportFiles.markdown, 'utf8'), /\| Ungraded \| Failed \|/);
      // The child workflows: one per run, or one per two runs.
      let children = 0;
      for await (const e of env.client.workflow.list({
        query: `WorkflowType = '${perChild === 1 ? 'campaignRun' : 'campaignBatch'}'`,
      })) {
        if (e.workflowId.startsWith(`${campaignId}.`)) children++;
      }
      assert.equal(children, perChild === 1 ? 6 : 3);
    });

  test('a run of an unknown campaign fails cleanly (no workflow task failing in a loop)', async () => {
    const handle = await env.client.workflow.start('campaignRun', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: uid('orphan'),
      args: [{ campaignId: 'c-does-not-exist', runKeyId: 'chain|cost|0.001|sample-math/1' }],
    });
    const err = await handle.result().then(
      () => assert.fail('an unknown campaign must fail the run'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String((err.cause as Error | undefined)?.message), /unknown campaign c-does-not-exist/);
    // The history ends in a workflow failure, with no failed workflow task before it.
    const events = (await handle.fetchHistory()).events ?? [];
    assert.ok(events.at(-1)?.workflowExecutionFailedEventAttributes);
    assert.equal(events.filter((e) => e.workflowTaskFailedEventAttributes).length, 0);
  });
});
