import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  executeChild,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  ParentClosePolicy,
} from '@temporalio/workflow';
import { runMas } from './run-mas';
import type { createProfilingJobActivities, DesignerJobArgs, ProfileJobArgs, ProfileObservationLite, ProfilePlan } from '../activities/profiling-jobs';
import { MAIN_TASK_QUEUE } from '../core/queues';
import type { RunMasResult } from '../core/mas';

/** The activity contract: only what the worker registers (workers/worker.ts). */
type ProfilingJobActivities = ReturnType<typeof createProfilingJobActivities>;

const acts = proxyActivities<ProfilingJobActivities>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

export interface ProfilingProgress {
  done: number;
  total: number;
  /** Calls whose run failed (left out of the fit). */
  failed?: number;
}
const profilingProgressQuery = defineQuery<ProfilingProgress>('progress');

const local = proxyLocalActivities<ProfilingJobActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5 },
});

/** Marks histories of the keyed, batched profiling (inputs with a profileId take that path only). */
const PROFILE_KEYS_PATCH = 'agentbalance-profile-keys-v1';
/** Child runs per workflow run before continuing as new. */
const PROFILE_RUNS_PER_HISTORY = 500;

interface ProfilePoolArgs extends ProfileJobArgs {
  /** Child runs per workflow run before continuing as new (default 500; small in tests). */
  runsPerHistory?: number;
  carried?: { cursor: number; done: number; failed: number; plan: ProfilePlan };
}

/**
 * Profiling at any size: positions, not payloads (each child builds its own input and stores its
 * observation), bounded concurrency overall and per backbone, continue-as-new every few hundred
 * children, and the fit reads the observations from the results store. A rerun under the same
 * (deterministic) workflow id skips every call already stored.
 */
async function profileByKeys(args: ProfilePoolArgs): Promise<Awaited<ReturnType<ProfilingJobActivities['fitStoredProfile']>>> {
  patched(PROFILE_KEYS_PATCH);
  const plan = args.carried?.plan ?? (await acts.planProfilingKeys(args));
  const progress: ProfilingProgress = { done: args.carried?.done ?? plan.alreadyDone, total: plan.total, failed: args.carried?.failed ?? 0 };
  setHandler(profilingProgressQuery, () => ({ ...progress }));
  const overall = args.concurrency ?? 16;
  const perBackbone = plan.limits.map(() => 0);
  let running = 0;
  let cursor = args.carried?.cursor ?? 0;
  let startedHere = 0;
  const inflight = new Set<Promise<void>>();
  const { carried: _carried, runsPerHistory, ...job } = args;
  void _carried;
  for (;;) {
    const batch = await acts.pendingProfileCalls(job, cursor, 100);
    if (batch.length === 0) break;
    for (const item of batch) {
      await condition(() => running < overall && perBackbone[item.backbone]! < plan.limits[item.backbone]!);
      running++;
      perBackbone[item.backbone]!++;
      startedHere++;
      const p = (async () => {
        try {
          await executeChild(profileCall, {
            workflowId: `${args.profileId}.${item.index}`,
            taskQueue: MAIN_TASK_QUEUE,
            args: [{ job, index: item.index }],
            parentClosePolicy: ParentClosePolicy.TERMINATE,
          });
          progress.done++;
        } catch {
          // A call whose run failed is left out of the fit; the job goes on.
          progress.failed = (progress.failed ?? 0) + 1;
        } finally {
          running--;
          perBackbone[item.backbone]!--;
        }
      })();
      inflight.add(p);
      void p.then(() => inflight.delete(p));
      cursor = item.index + 1;
    }
    if (startedHere >= (runsPerHistory ?? PROFILE_RUNS_PER_HISTORY) || workflowInfo().continueAsNewSuggested) {
      await Promise.all(inflight);
      await continueAsNew<typeof profilePool>({
        ...job,
        ...(runsPerHistory !== undefined ? { runsPerHistory } : {}),
        carried: { cursor, done: progress.done, failed: progress.failed ?? 0, plan },
      });
    }
  }
  await Promise.all(inflight);
  if (progress.done === 0) throw ApplicationFailure.nonRetryable(`profiling ${args.profileId}: every call failed (${progress.failed} of ${plan.total})`, 'ProfilingFailed');
  return acts.fitStoredProfile(job);
}

/** One profiling call: build the input by position, run the backbone alone, store the observation. */
export async function profileCall(args: { job: ProfileJobArgs; index: number }): Promise<void> {
  const input = await local.planProfileCall(args.job, args.index);
  const r: RunMasResult = await runMas(input);
  const a = r.agents[0];
  if (!a || a.status !== 'ok') throw ApplicationFailure.nonRetryable(`profiling call ${args.index}: ${a?.error ?? a?.status ?? 'no agent ran'}`, 'ProfilingCallFailed');
  await local.recordProfileCall(args.job, args.index, { correct: r.correct === true, inputTokens: a.inputTokens, outputTokens: a.outputTokens, latencyS: a.latencyS });
}

/**
 * Profiling (docs/METHOD.md §1.1): every backbone alone on the profile split, as child runMas
 * workflows with bounded concurrency (finished calls live in history, so a crash loses none),
 * then one activity fits the latency models, IRT and the difficulty regressor and saves the profile.
 */
export async function profilePool(
  args: (DesignerJobArgs & { concurrency?: number }) | ProfilePoolArgs,
): Promise<Awaited<ReturnType<ProfilingJobActivities['fitAndSaveProfile']>>> {
  if ('profileId' in args && args.profileId) {
    try {
      return await profileByKeys(args);
    } catch (err) {
      // Unexpected errors in workflow code fail the job with one line instead of looping its task.
      if (isCancellation(err) || err instanceof ApplicationFailure || !(err instanceof Error) || err.name === 'ContinueAsNew' || err.name === 'DeterminismViolationError') throw err;
      throw ApplicationFailure.nonRetryable(`profiling ${args.profileId}: ${err.name}: ${err.message.split('\n')[0]}`, 'ProfilingFailed');
    }
  }
  // Histories from before PROFILE_KEYS_PATCH (inputs without a profileId) replay unchanged.
  const items = await acts.planProfiling(args);
  const progress = { done: 0, total: items.length };
  setHandler(profilingProgressQuery, () => progress);
  const limit = args.concurrency ?? 16;
  let running = 0;
  const observations: ProfileObservationLite[] = [];
  await Promise.all(
    items.map(async (item, i) => {
      await condition(() => running < limit);
      running++;
      try {
        const r: RunMasResult = await executeChild('runMas', {
          workflowId: `${args.pool}.${args.benchmark}.profile.${args.seed}.${i}`,
          taskQueue: MAIN_TASK_QUEUE,
          args: [item.input],
        });
        observations.push({
          key: item.key,
          correct: r.correct === true,
          inputTokens: r.agents[0]!.inputTokens,
          outputTokens: r.agents[0]!.outputTokens,
          latencyS: r.agents[0]!.latencyS,
        });
        progress.done++;
      } finally {
        running--;
      }
    }),
  );
  return acts.fitAndSaveProfile(args, observations);
}
