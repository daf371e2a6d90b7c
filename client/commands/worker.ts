import type { Command } from 'commander';
import { z } from 'zod';
import { ProviderKindSchema } from '../../core/pool';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import { configuredServer } from '../temporal-env';
import { UserError } from '../errors';

const RateLimitsSchema = z.partialRecord(ProviderKindSchema, z.number().positive());

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: workflows and CPU activities on the main queue, model calls on one queue per provider')
    .option('--address <host:port>', 'Temporal server (default: TEMPORAL_ADDRESS or 127.0.0.1:7233)')
    .option('--namespace <ns>', 'namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--concurrency <n>', 'concurrent CPU activities', String(DEFAULT_WORKER_CONFIG.mainConcurrency))
    .option('--llm-concurrency <n>', 'concurrent model calls per provider', String(DEFAULT_WORKER_CONFIG.llmConcurrency))
    .option('--rate-limit <provider=perSecond...>', 'task-queue rate limit per provider, e.g. openai=5', [])
    .option('--sdk-metrics-port <port>', "expose Temporal's own SDK metrics for Prometheus on this port")
    .action(
      async (o: {
        address?: string;
        namespace?: string;
        concurrency: string;
        llmConcurrency: string;
        rateLimit: string[];
        sdkMetricsPort?: string;
      }) => {
        const server = configuredServer();
        const address = o.address ?? server?.address ?? '127.0.0.1:7233';
        const namespace = o.namespace ?? server?.namespace ?? 'default';
        const limits = RateLimitsSchema.safeParse(
          Object.fromEntries(
            o.rateLimit.map((kv) => {
              const [k, v] = kv.split('=');
              return [k, Number(v)];
            }),
          ),
        );
        if (!limits.success) {
          throw new UserError(`--rate-limit: expected provider=callsPerSecond, provider one of ${ProviderKindSchema.options.join(', ')}`);
        }
        const concurrency = Number(o.concurrency);
        const llmConcurrency = Number(o.llmConcurrency);
        if (!Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(llmConcurrency) || llmConcurrency < 1) {
          throw new UserError('--concurrency and --llm-concurrency must be positive integers');
        }
        installRuntime({ logLevel: 'INFO', ...(o.sdkMetricsPort ? { sdkMetricsPort: Number(o.sdkMetricsPort) } : {}) });
        const running = await startWorkers({
          ...DEFAULT_WORKER_CONFIG,
          address,
          namespace,
          mainConcurrency: concurrency,
          llmConcurrency,
          rateLimits: limits.data,
        });
        console.log(`agentbalance worker polling ${address} (namespace ${namespace}); Ctrl-C stops it gracefully`);
        // Worker.run handles SIGINT/SIGTERM itself: it stops polling and drains in-flight tasks.
        await running.done;
      },
    );
}
