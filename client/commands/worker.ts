import type { Command } from 'commander';
import { z } from 'zod';
import { ProviderKindSchema } from '../../core/pool';
import type { RunningWorkers } from '../../workers/worker';
import { DEFAULT_WORKER_CONFIG } from '../../workers/config';
import { configuredServer } from '../preflight';
import { DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT } from '../../workers/metrics-server';
import { lazy } from '../lazy';
import { UserError } from '../errors';
import { decimal, parseFlag, positiveInt } from '../options';

const RateLimitsSchema = z.partialRecord(ProviderKindSchema, z.number().positive());

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run a worker: workflows and CPU activities on the main queue, model calls on one queue per provider')
    .option('--address <host:port>', 'Temporal server (default: TEMPORAL_ADDRESS, else the dev server of the state folder, else 127.0.0.1:7233)')
    .option('--namespace <ns>', 'namespace (default: TEMPORAL_NAMESPACE or default)')
    .option('--concurrency <n>', 'concurrent CPU activities (default 8)')
    .option('--llm-concurrency <n>', 'concurrent model calls per provider (default 32)')
    .option('--rate-limit <provider=perSecond...>', 'task-queue rate limit per provider, e.g. openai=5', [])
    .option('--metrics-port <port>', 'serve the product metrics for Prometheus on this port (/metrics; 0: any free port)', String(DEFAULT_METRICS_PORT))
    .option('--metrics-host <host>', 'address the product metrics bind to', DEFAULT_METRICS_HOST)
    .option('--no-metrics', 'do not serve the product metrics')
    .option('--sdk-metrics-port <port>', "expose Temporal's own SDK metrics for Prometheus on this port (e.g. 9465)")
    .option('--sdk-metrics-host <host>', "address Temporal's SDK metrics bind to", DEFAULT_METRICS_HOST)
    .action(
      async (o: {
        address?: string;
        namespace?: string;
        concurrency?: string;
        llmConcurrency?: string;
        rateLimit: string[];
        metrics: boolean;
        metricsPort: string;
        metricsHost: string;
        sdkMetricsPort?: string;
        sdkMetricsHost: string;
      }) => {
        const limits = RateLimitsSchema.safeParse(
          Object.fromEntries(
            o.rateLimit.map((kv) => {
              const [k, v] = kv.split('=');
              return [k, decimal().safeParse(v ?? '').data ?? Number.NaN];
            }),
          ),
        );
        if (!limits.success) {
          throw new UserError(`--rate-limit: expected provider=callsPerSecond, provider one of ${ProviderKindSchema.options.join(', ')}`);
        }
        const concurrency = parseFlag('--concurrency', positiveInt(), o.concurrency ?? String(DEFAULT_WORKER_CONFIG.mainConcurrency));
        const llmConcurrency = parseFlag('--llm-concurrency', positiveInt(), o.llmConcurrency ?? String(DEFAULT_WORKER_CONFIG.llmConcurrency));
        const metricsPort = parsePort('--metrics-port', o.metricsPort);
        const sdkMetricsPort = o.sdkMetricsPort !== undefined ? parsePort('--sdk-metrics-port', o.sdkMetricsPort) : undefined;
        if (o.metrics && sdkMetricsPort !== undefined && sdkMetricsPort === metricsPort && metricsPort !== 0) {
          throw new UserError('--metrics-port and --sdk-metrics-port must differ (product and SDK metrics have their own endpoints)');
        }
        const server = configuredServer();
        const namespace = o.namespace ?? server?.namespace ?? 'default';
        // Loaded here, not at the top: other commands and bad flags do not pay for the worker's modules.
        const { recordedDevServer } = lazy<typeof import('../../infra/dev-server')>('../../infra/dev-server', __filename);
        const address = o.address ?? server?.address ?? (await recordedDevServer()) ?? '127.0.0.1:7233';
        const { startWorkers } = lazy<typeof import('../../workers/worker')>('../../workers/worker', __filename);
        const { installRuntime } = lazy<typeof import('../../workers/runtime')>('../../workers/runtime', __filename);
        const { startMetricsServer } = lazy<typeof import('../../workers/metrics-server')>('../../workers/metrics-server', __filename);
        installRuntime({
          logLevel: 'INFO',
          ...(sdkMetricsPort !== undefined ? { sdkMetricsPort, sdkMetricsHost: o.sdkMetricsHost } : {}),
        });
        const metrics = o.metrics
          ? await startMetricsServer({ host: o.metricsHost, port: metricsPort }).catch((e: unknown) => {
              throw new UserError(`--metrics-port: cannot serve metrics on ${o.metricsHost}:${metricsPort}: ${e instanceof Error ? e.message : String(e)}`);
            })
          : undefined;
        let running: RunningWorkers;
        try {
          running = await startWorkers({
            ...DEFAULT_WORKER_CONFIG,
            address,
            namespace,
            mainConcurrency: concurrency,
            llmConcurrency,
            rateLimits: limits.data,
          });
        } catch (e) {
          await metrics?.close();
          throw e;
        }
        console.log(`agentbalance worker polling ${address} (namespace ${namespace}); Ctrl-C stops it gracefully`);
        if (metrics) console.log(`agentbalance worker metrics on ${metrics.url}`);
        if (sdkMetricsPort !== undefined) console.log(`Temporal SDK metrics on http://${o.sdkMetricsHost}:${sdkMetricsPort}/metrics`);
        // Worker.run handles SIGINT/SIGTERM itself: it stops polling and drains in-flight tasks.
        try {
          await running.done;
        } finally {
          await metrics?.close();
        }
      },
    );
}

function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UserError(`${flag}: expected a port number 0-65535, got "${value}"`);
  return n;
}
