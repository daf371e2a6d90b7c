import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type * as campaignActivities from '../activities/campaign';
import type { CampaignSpec } from '../core/campaign/spec';
import type { RunMasResult } from '../core/mas';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { runMas } from './run-mas';

const acts = proxyActivities<typeof campaignActivities>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/**
 * Per-run bookkeeping (plan, record, agreement) is quick and local to the worker, so it runs as
 * local activities: no server round trip per call, still recorded in history and retried.
 */
const local = proxyLocalActivities<typeof campaignActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

export interface CampaignProgress {
  campaignId: string;
  total: number;
  done: number;
  running: number;
  correct: number;
  spentUsd: number;
  paused: boolean;
  cancelled: boolean;
  finished: boolean;
  reportDir?: string;
}

export interface CampaignArgs {
  campaignId: string;
  spec: CampaignSpec;
  /** Child runs per workflow run before continuing as new (default 400; small in tests). */
  runsPerHistory?: number;
  /** Carried over continue-as-new. */
  carried?: { cursor: number; total: number; done: number; correct: number; spentUsd: number };
}

export interface CampaignSummary extends CampaignProgress {
  auc: campaignActivities.FinalizeResult['auc'];
  reportFiles: campaignActivities.FinalizeResult['files'];
  simulated: boolean;
}

export const progressQuery = defineQuery<CampaignProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const cancelSignal = defineSignal('cancel');

/** Runs at most this many child runs per workflow run before continuing as new (bounded history). */
const RUNS_PER_HISTORY = 400;
const BATCH = 50;

/**
 * A benchmark campaign: every (method, budget, query) run as a child workflow with bounded
 * concurrency. The results store is the source of truth: finished runs are skipped on restart,
 * and each run's result is upserted by its key, so crashes neither lose nor duplicate work.
 */
export async function campaign(args: CampaignArgs): Promise<CampaignSummary> {
  const { campaignId, spec } = args;
  const p: CampaignProgress = {
    campaignId,
    total: args.carried?.total ?? 0,
    done: args.carried?.done ?? 0,
    running: 0,
    correct: args.carried?.correct ?? 0,
    spentUsd: args.carried?.spentUsd ?? 0,
    paused: false,
    cancelled: false,
    finished: false,
  };
  setHandler(progressQuery, () => ({ ...p }));
  setHandler(pauseSignal, () => void (p.paused = true));
  setHandler(resumeSignal, () => void (p.paused = false));
  setHandler(cancelSignal, () => void (p.cancelled = true));

  let cursor = args.carried?.cursor ?? 0;
  if (!args.carried) {
    const prepared = await acts.prepareCampaign(campaignId, spec);
    p.total = prepared.totalRuns;
    p.done = prepared.alreadyDone;
    p.correct = prepared.alreadyCorrect;
    p.spentUsd = prepared.alreadySpentUsd;
  }

  let startedHere = 0;
  const inflight = new Set<Promise<void>>();
  for (;;) {
    if (p.cancelled) break;
    const batch = await acts.nextPendingRuns(campaignId, cursor, BATCH);
    if (batch.length === 0) break;
    for (const item of batch) {
      await condition(() => p.cancelled || (!p.paused && p.running < spec.concurrency));
      if (p.cancelled) break;
      p.running++;
      startedHere++;
      const job = (async () => {
        try {
          const res = await executeChild(campaignRun, {
            workflowId: `${campaignId}.${item.runKeyId}`,
            taskQueue: MAIN_TASK_QUEUE,
            args: [{ campaignId, runKeyId: item.runKeyId }],
            parentClosePolicy: ParentClosePolicy.TERMINATE,
          });
          p.done++;
          if (res.correct) p.correct++;
          p.spentUsd += res.costUsd;
        } finally {
          p.running--;
        }
      })();
      inflight.add(job);
      void job.finally(() => inflight.delete(job));
      cursor = item.index + 1;
    }
    if (startedHere >= (args.runsPerHistory ?? RUNS_PER_HISTORY) || workflowInfo().continueAsNewSuggested) {
      await Promise.all(inflight);
      if (!p.cancelled) {
        await continueAsNew<typeof campaign>({
          campaignId,
          spec,
          ...(args.runsPerHistory !== undefined ? { runsPerHistory: args.runsPerHistory } : {}),
          carried: { cursor, total: p.total, done: p.done, correct: p.correct, spentUsd: p.spentUsd },
        });
      }
    }
  }
  await Promise.all(inflight);
  const fin = await acts.finalizeCampaign(campaignId);
  p.finished = true;
  p.reportDir = fin.reportDir;
  return { ...p, auc: fin.auc, reportFiles: fin.files, simulated: fin.simulated };
}

export interface CampaignRunArgs {
  campaignId: string;
  runKeyId: string;
}

/** One (method, budget, query) of a campaign: plan the MAS, run it, store the result. */
export async function campaignRun(args: CampaignRunArgs): Promise<{ correct: boolean; costUsd: number }> {
  const plan = await local.planRun(args.campaignId, args.runKeyId);
  let result: RunMasResult;
  if (plan.cascade) {
    // FrugalGPT-style: stop at the first stage whose two samples agree (or the last stage).
    result = await runCascade(plan.cascade);
  } else {
    result = await runMas(plan.input);
  }
  await local.recordRun(args.campaignId, args.runKeyId, result);
  return { correct: result.correct === true, costUsd: result.costUsd };
}

async function runCascade(c: NonNullable<campaignActivities.PlannedRun['cascade']>): Promise<RunMasResult> {
  let spent = 0;
  let elapsed = 0;
  let last: RunMasResult | undefined;
  const agents: RunMasResult['agents'] = [];
  for (let i = 0; i < c.stages.length; i++) {
    const stage = c.stages[i]!;
    const budgets = {
      ...(stage.budgets?.maxCostUsd !== undefined ? { maxCostUsd: Math.max(1e-12, stage.budgets.maxCostUsd - spent) } : {}),
      ...(stage.budgets?.maxLatencyS !== undefined ? { maxLatencyS: Math.max(1e-9, stage.budgets.maxLatencyS - elapsed) } : {}),
    };
    if ((budgets.maxCostUsd ?? Infinity) <= 1e-12 || (budgets.maxLatencyS ?? Infinity) <= 1e-9) break;
    const res = await runMas({ ...stage, budgets });
    spent += res.costUsd;
    elapsed += res.latencyS;
    agents.push(...res.agents.map((a) => ({ ...a, id: `s${i}.${a.id}` })));
    last = res;
    if (res.answer && (await local.samplesAgree(stage.task, res.agents.map((a) => a.text ?? '')))) break;
  }
  if (!last) throw new Error('cascade: no stage could run within the budget');
  return { ...last, costUsd: spent, latencyS: elapsed, agents };
}
