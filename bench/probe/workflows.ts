// Workflows of the hop probe (bench/hop-probe.ts): k sequential no-op activities, nothing else.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type * as acts from './activities';

export async function chain(k: number, activityQueue: string, local: boolean): Promise<number> {
  const a = local
    ? proxyLocalActivities<typeof acts>({ startToCloseTimeout: '10 seconds' })
    : proxyActivities<typeof acts>({ startToCloseTimeout: '10 seconds', taskQueue: activityQueue });
  let n = 0;
  for (let i = 0; i < k; i++) n = await a.noop(n);
  return n;
}
