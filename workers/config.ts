import type { ProviderKind } from '../core/pool';

export interface WorkerConfig {
  address: string;
  namespace: string;
  /** Concurrent activities on the main queue (grading, designing, stores). */
  mainConcurrency: number;
  /** Concurrent model calls per provider queue. */
  llmConcurrency: number;
  /** Optional provider rate limits in calls per second, enforced by Temporal across all workers. */
  rateLimits: Partial<Record<ProviderKind, number>>;
  providers: ProviderKind[];
  /** Worker identity shown by the Temporal server (UI, pollers); the SDK's default is pid@host. */
  identity?: string;
}

export const DEFAULT_WORKER_CONFIG: Omit<WorkerConfig, 'address' | 'namespace'> = {
  mainConcurrency: 8,
  llmConcurrency: 32,
  rateLimits: {},
  providers: ['simulated', 'openai', 'anthropic'],
};
