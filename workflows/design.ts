import { proxyActivities } from '@temporalio/workflow';
import type { createDesignJobActivities } from '../activities/design-jobs';
import type { DesignerJobArgs } from '../activities/profiling-jobs';
import { MAIN_TASK_QUEUE } from '../core/queues';

/** The activity contract: only what the worker registers (workers/worker.ts). */
type DesignJobActivities = ReturnType<typeof createDesignJobActivities>;

/** A short heartbeat timeout: the SDK sends heartbeats every 0.8 of it, which paces the CLI's progress bar. */
const training = proxyActivities<DesignJobActivities>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

/** Trains the designer (REINFORCE with the Lagrangian reward) as one heartbeating activity. */
export async function designPool(args: DesignerJobArgs): Promise<Awaited<ReturnType<DesignJobActivities['trainDesignerJob']>>> {
  return training.trainDesignerJob(args);
}
