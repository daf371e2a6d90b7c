import {
  ApplicationFailure,
  condition,
  continueAsNew,
  ContinueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  ParentClosePolicy,
  WorkflowError,
} from '@temporalio/workflow';
import type * as campaignActivities from '../activities/campaign';
import type { CampaignSpec } from '../core/campaign/spec';
import type { RunMasResult } from '../core/mas';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { UNKNOWN_CAMPAIGN_TYPE } from '../core/campaign/failures';
import { runMas } from './run-mas';

const acts = proxyActivities<ReturnType<typeof campaignActivities.createCampaignActivities>>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/**
 * Per-run bookkeeping (plan, record, agreement) is quick and local to the worker, so it runs as
 * local activities: no server round trip per call, still recorded in history and retried.
 */
const local = proxyLocalActivities<ReturnType<typeof campaignActivities.createCampaignActivities>>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

export interface CampaignProgress {
  campaignId: string;
  total: number;
  done: number;
  running: number;
  correct: number;
  /** Runs that failed (stored with their error, counted as wrong). */
  failed: number;
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
  carried?: {
    cursor: number;
    total: number;
    done: number;
    correct: number;
    spentUsd: number;
    failed?: number;
    runsPerChild?: number;
  };
}

export interface CampaignSummary extends CampaignProgress {
  auc: campaignActivities.FinalizeResult['auc'];
  reportFiles: campaignActivities.FinalizeResult['files'];
  simulated: boolean;
}

const progressQuery = defineQuery<CampaignProgress>('progress');
const pauseSignal = defineSignal('pause');
const resumeSignal = defineSignal('resume');
const cancelSignal = defineSignal('cancel');

/**
 * Failure handling (issue #11): a child run that fails for any reason is stored as a failed run and
 * counted; the campaign goes on. No child promise is left to reject unhandled. Only a campaign-level
 * fault (the store unreachable, the dataset gone) stops the campaign, as a workflow failure with one
 * line; running the same command again resumes it (the store decides what is done).
 */
const CAMPAIGN_FAILURES_PATCH = 'agentbalance-campaign-failures-v1';
/**
 * Several runs per child workflow (issue #11, Temporal footprint and throughput): a child's fixed
 * cost (its start, its first and last workflow tasks, its visibility records, the parent's three
 * events) is paid once per batch instead of once per run. Each run in a batch is still the same
 * durable `campaignRun` code, its calls and bookkeeping recorded one by one in the batch's history.
 */
export const CAMPAIGN_BATCHES_PATCH = 'agentbalance-campaign-batches-v1';
/** ApplicationFailure type of a fault that stops a campaign (its message is the one line shown). */
const CAMPAIGN_FAULT_TYPE = 'CampaignFault';

/** The failure's class (innermost Temporal failure type or error name) and a one-line message. */
function describeRunFailure(err: unknown): { class: string; message: string } {
  let cls = 'Error';
  let message = '';
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    const type = e instanceof ApplicationFailure ? e.type : undefined;
    cls = type ?? (e.name && e.name !== 'Error' ? e.name : cls);
    if (e.message) message = e.message;
  }
  if (!(err instanceof Error)) message = String(err);
  return { class: cls.slice(0, 200), message: (message.split('\n')[0] ?? '').slice(0, 300) };
}

/** Runs at most this many child runs per workflow run before continuing as new (bounded history). */
const RUNS_PER_HISTORY = 400;
const BATCH = 50;

/**
 * A benchmark campaign: every (method, budget, query) run as a child workflow with bounded
 * concurrency. The results store is the source of truth: finished runs are skipped on restart,
 * and each run's result is upserted by its key, so crashes neither lose nor duplicate work.
 */
export async function campaign(args: CampaignArgs): Promise<CampaignSummary> {
  try {
    return await campaignBody(args);
  } catch (err) {
    // An unexpected error in workflow code fails the campaign with one line instead of failing its
    // workflow task forever; the same command starts it again and resumes from the store.
    if (isCancellation(err) || err instanceof ApplicationFailure || !(err instanceof Error)) throw err;
    // Continue-as-new, and determinism errors (a fixed worker must be able to replay), pass through.
    if (err instanceof ContinueAsNew || err instanceof WorkflowError) throw err;
    throw ApplicationFailure.nonRetryable(`campaign ${args.campaignId}: ${err.name}: ${err.message.split('\n')[0]}`, CAMPAIGN_FAULT_TYPE);
  }
}

async function campaignBody(args: CampaignArgs): Promise<CampaignSummary> {
  const { campaignId, spec } = args;
  const p: CampaignProgress = {
    campaignId,
    total: args.carried?.total ?? 0,
    done: args.carried?.done ?? 0,
    running: 0,
    correct: args.carried?.correct ?? 0,
    failed: args.carried?.failed ?? 0,
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
  let runsPerChild = args.carried?.runsPerChild ?? 1;
  if (!args.carried) {
    const prepared = await acts.prepareCampaign(campaignId, spec);
    p.total = prepared.totalRuns;
    p.done = prepared.alreadyDone;
    p.correct = prepared.alreadyCorrect;
    p.failed = prepared.alreadyFailed ?? 0;
    p.spentUsd = prepared.alreadySpentUsd;
    runsPerChild = prepared.runsPerChild ?? 1;
  }
  const contained = patched(CAMPAIGN_FAILURES_PATCH);
  // Histories from before batching always ran one run per child; `patched` only where it matters.
  if (runsPerChild > 1 && !(contained && patched(CAMPAIGN_BATCHES_PATCH))) runsPerChild = 1;
  /** A campaign-level fault seen by a run's bookkeeping: stops starting runs, then fails the campaign. */
  let fault: string | undefined;

  const count = (res: RunOutcome): void => {
    p.done++;
    if (res.correct) p.correct++;
    if (res.failed) p.failed++;
    p.spentUsd += res.costUsd;
  };
  /** One run in its own child workflow (the only way before batching). */
  const runOne = async (runKeyId: string): Promise<void> => {
    try {
      count(
        await executeChild(campaignRun, {
          workflowId: `${campaignId}.${runKeyId}`,
          taskQueue: MAIN_TASK_QUEUE,
          args: [{ campaignId, runKeyId }],
          parentClosePolicy: ParentClosePolicy.TERMINATE,
        }),
      );
    } catch (err) {
      if (!contained) throw err;
      // The child itself failed (its store write, a timeout, a termination): store it as failed.
      try {
        await local.recordFailedRun(campaignId, runKeyId, describeRunFailure(err));
        count({ correct: false, costUsd: 0, failed: true });
      } catch (storeErr) {
        fault ??= `cannot record run ${runKeyId}: ${describeRunFailure(storeErr).message}`;
      }
    }
  };
  /** Several runs in one child workflow; a run the batch could not store is stored as failed here. */
  const runBatch = async (runKeyIds: string[]): Promise<void> => {
    let outcomes: BatchOutcome[];
    try {
      outcomes = await executeChild(campaignBatch, {
        workflowId: `${campaignId}.batch.${runKeyIds[0]!}`,
        taskQueue: MAIN_TASK_QUEUE,
        args: [{ campaignId, runKeyIds }],
        parentClosePolicy: ParentClosePolicy.TERMINATE,
      });
    } catch (err) {
      // The whole child failed (a termination, a timeout): every run it did not store is failed.
      const error = describeRunFailure(err);
      outcomes = runKeyIds.map((runKeyId) => ({ runKeyId, correct: false, costUsd: 0, failed: true, error }));
    }
    for (const o of outcomes) {
      if (!o.error) {
        count(o);
        continue;
      }
      try {
        // Stores the failure only where the store holds nothing for the run yet.
        const stored = await local.recordFailedRunIfAbsent(campaignId, o.runKeyId, o.error);
        count(stored);
      } catch (storeErr) {
        fault ??= `cannot record run ${o.runKeyId}: ${describeRunFailure(storeErr).message}`;
      }
    }
  };

  let startedHere = 0;
  const inflight = new Set<Promise<void>>();
  for (;;) {
    if (p.cancelled || fault) break;
    // Whole children's worth of runs at a time (a remainder would make a short child).
    const batch = await acts.nextPendingRuns(campaignId, cursor, runsPerChild * Math.ceil(BATCH / runsPerChild));
    if (batch.length === 0) break;
    for (let i = 0; i < batch.length; i += runsPerChild) {
      const items = batch.slice(i, i + runsPerChild);
      const size = items.length;
      await condition(
        () => p.cancelled || fault !== undefined || (!p.paused && p.running + size <= Math.max(spec.concurrency, size)),
      );
      if (p.cancelled || fault) break;
      p.running += size;
      startedHere += size;
      const job = (runsPerChild > 1 ? runBatch(items.map((it) => it.runKeyId)) : runOne(items[0]!.runKeyId)).finally(() => {
        p.running -= size;
      });
      inflight.add(job);
      // Settled either way; the job's own rejection (only before the patch) is seen by Promise.all.
      void job.then(
        () => inflight.delete(job),
        () => inflight.delete(job),
      );
      cursor = items[size - 1]!.index + 1;
    }
    if (startedHere >= (args.runsPerHistory ?? RUNS_PER_HISTORY) || workflowInfo().continueAsNewSuggested) {
      await Promise.all(inflight);
      if (!p.cancelled && !fault) {
        await continueAsNew<typeof campaign>({
          campaignId,
          spec,
          ...(args.runsPerHistory !== undefined ? { runsPerHistory: args.runsPerHistory } : {}),
          carried: {
            cursor,
            total: p.total,
            done: p.done,
            correct: p.correct,
            spentUsd: p.spentUsd,
            ...(contained ? { failed: p.failed } : {}),
            ...(runsPerChild > 1 ? { runsPerChild } : {}),
          },
        });
      }
    }
  }
  await Promise.all(inflight);
  if (fault) throw ApplicationFailure.nonRetryable(`campaign ${campaignId} stopped: ${fault}; run the same command again to resume`, CAMPAIGN_FAULT_TYPE);
  const fin = await acts.finalizeCampaign(campaignId);
  p.finished = true;
  p.reportDir = fin.reportDir;
  return { ...p, auc: fin.auc, reportFiles: fin.files, simulated: fin.simulated };
}

interface CampaignRunArgs {
  campaignId: string;
  runKeyId: string;
}

interface RunOutcome {
  correct: boolean;
  costUsd: number;
  failed?: boolean;
}

interface BatchOutcome extends RunOutcome {
  runKeyId: string;
  /** Set when the batch could not store the run (its store writes failed): the parent stores it. */
  error?: { class: string; message: string };
}

interface CampaignBatchArgs {
  campaignId: string;
  runKeyIds: string[];
}

/**
 * Several runs of a campaign in one child workflow (CAMPAIGN_BATCHES_PATCH), one after another,
 * each the same code as a `campaignRun` child. One run's failure never fails the others. The runs
 * do not overlap: batches are only used for runs that do not wait in real time, where a run takes
 * milliseconds of worker CPU, and interleaving runs whose local activities finish in any order
 * would make the order of the batch's commands depend on timing (a recorded history of two
 * overlapped runs failed to replay).
 */
export async function campaignBatch(args: CampaignBatchArgs): Promise<BatchOutcome[]> {
  const out: BatchOutcome[] = [];
  for (const runKeyId of args.runKeyIds) {
    try {
      out.push({ runKeyId, ...(await campaignRun({ campaignId: args.campaignId, runKeyId })) });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const error = describeRunFailure(err);
      // A campaign the store does not know: nothing of the batch can be stored.
      if (error.class === UNKNOWN_CAMPAIGN_TYPE) throw ApplicationFailure.nonRetryable(error.message, UNKNOWN_CAMPAIGN_TYPE);
      out.push({ runKeyId, correct: false, costUsd: 0, failed: true, error });
    }
  }
  return out;
}

/** One (method, budget, query) of a campaign: plan the MAS, run it, store the result. */
export async function campaignRun(args: CampaignRunArgs): Promise<RunOutcome> {
  if (!patched(CAMPAIGN_FAILURES_PATCH)) {
    const result = await planAndRun(args);
    await local.recordRun(args.campaignId, args.runKeyId, result);
    return { correct: result.correct === true, costUsd: result.costUsd };
  }
  let result: RunMasResult;
  try {
    result = await planAndRun(args);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const failure = describeRunFailure(err);
    // A run of a campaign the store does not know cannot be recorded: fail this child cleanly.
    if (failure.class === UNKNOWN_CAMPAIGN_TYPE) throw ApplicationFailure.nonRetryable(failure.message, UNKNOWN_CAMPAIGN_TYPE);
    await local.recordFailedRun(args.campaignId, args.runKeyId, failure);
    return { correct: false, costUsd: 0, failed: true };
  }
  // The store keeps agent texts truncated anyway: cut them before they enter the history again.
  await local.recordRun(args.campaignId, args.runKeyId, { ...result, agents: result.agents.map(trimText) });
  return { correct: result.correct === true, costUsd: result.costUsd };
}

const STORED_TEXT_CHARS = 500;
function trimText(a: RunMasResult['agents'][number]): RunMasResult['agents'][number] {
  return a.text !== undefined && a.text.length > STORED_TEXT_CHARS ? { ...a, text: `${a.text.slice(0, STORED_TEXT_CHARS)}…` } : a;
}

async function planAndRun(args: CampaignRunArgs): Promise<RunMasResult> {
  const plan = await local.planRun(args.campaignId, args.runKeyId);
  // FrugalGPT-style cascade: stop at the first stage whose two samples agree (or the last stage).
  return plan.cascade ? runCascade(plan.cascade) : runMas(plan.input);
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
