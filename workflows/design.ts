import { proxyActivities } from '@temporalio/workflow';
import type { createDesignerJobActivities, DesignerJobArgs } from '../activities/designer-jobs';
import { MAIN_TASK_QUEUE } from '../core/queues';

/** The activity contract: only what the worker registers (workers/worker.ts). */
type DesignerJobActivities = ReturnType<typeof createDesignerJobActivities>;

/** A short heartbeat timeout: the SDK sends heartbeats every 0.8 of it, which paces the CLI's progress bar. */
const training = proxyActivities<DesignerJobActivities>({
  taskQueue: MAIN_TASK_QUEUE,
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '5 seconds',
  retry: { maximumAttempts: 3 },
});

/** Trains the designer (REINFORCE with the Lagrangian reward) as one heartbeating activity. */
export async function designPool(args: DesignerJobArgs): Promise<Awaited<ReturnType<DesignerJobActivities['trainDesignerJob']>>> {
  return training.trainDesignerJob(args);
}
