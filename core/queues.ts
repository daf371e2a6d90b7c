import type { ProviderKind } from './pool';

/** Orchestration and CPU-bound activities (grading, designing, results store). */
export const MAIN_TASK_QUEUE = 'agentbalance';

/**
 * Model calls get one task queue per provider so each provider's rate limit can be enforced with
 * Temporal's task-queue rate limiting (`maxTaskQueueActivitiesPerSecond`).
 */
export function llmTaskQueue(provider: ProviderKind): string {
  return `agentbalance-llm-${provider}`;
}
