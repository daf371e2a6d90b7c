import { condition, defineQuery, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as jobs from '../activities/designer-jobs';
import { MAIN_TASK_QUEUE } from '../core/queues';
import type { RunMasResult } from '../core/mas';

const acts = proxyActivities<typeof jobs>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3 },
});

export const profilingProgressQuery = defineQuery<{ done: number; total: number }>('progress');

/**
 * Profiling (docs/METHOD.md §1.1): every backbone alone on the profile split, as child runMas
 * workflows with bounded concurrency (finished calls live in history, so a crash loses none),
 * then one activity fits the latency models, IRT and the difficulty regressor and saves the profile.
 */
export async function profilePool(args: jobs.DesignerJobArgs & { concurrency?: number }): Promise<Awaited<ReturnType<typeof jobs.fitAndSaveProfile>>> {
  const items = await acts.planProfiling(args);
  const progress = { done: 0, total: items.length };
  setHandler(profilingProgressQuery, () => progress);
  const limit = args.concurrency ?? 16;
  let running = 0;
  const observations: jobs.ProfileObservationLite[] = [];
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

/** A short heartbeat timeout: the SDK sends heartbeats every 0.8 of it, which paces the CLI's progress bar. */
const training = proxyActivities<typeof jobs>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

/** Trains the designer (REINFORCE with the Lagrangian reward) as one heartbeating activity. */
export async function designPool(args: jobs.DesignerJobArgs): Promise<Awaited<ReturnType<typeof jobs.trainDesignerJob>>> {
  return training.trainDesignerJob(args);
}
