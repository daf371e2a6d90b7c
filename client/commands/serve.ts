import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_POOL } from '../../core/pool-file';
import { loadPool } from '../../activities/pool-loader';
import { openKeyStore } from '../../activities/keys-store';
import { registry as workerRegistry } from '../../activities/metrics';
import { UserError } from '../errors';
import { withTemporal } from '../temporal-env';
import { createGateway, DEFAULT_MAX_BODY_BYTES } from '../gateway/server';
import { ModelCatalog } from '../gateway/models';

const DEFAULT_GATEWAY_PORT = 8787;

const ServeOptionsSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number({ error: '--port must be a number' }).int('--port must be an integer').min(0, '--port must be 0-65535').max(65535, '--port must be 0-65535'),
  pool: z.string().default(DEFAULT_POOL),
  timeFactor: z.coerce.number({ error: '--time-factor must be a number' }).nonnegative('--time-factor must be ≥ 0'),
  maxBodyBytes: z.coerce.number({ error: '--max-body-bytes must be a number' }).int().positive('--max-body-bytes must be a positive integer'),
  drainTimeout: z.coerce.number({ error: '--drain-timeout must be a number' }).nonnegative('--drain-timeout must be ≥ 0'),
});

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('OpenAI-compatible gateway: POST /v1/chat/completions runs one budgeted MAS per request (keys: `agentbalance keys`)')
    .option('--host <host>', 'interface to bind (TLS belongs in a reverse proxy in front)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', String(DEFAULT_GATEWAY_PORT))
    .option('--pool <name|file>', `backbone pool (default ${DEFAULT_POOL})`)
    .option('--time-factor <x>', 'simulated pool: real seconds waited per simulated second', '0')
    .option('--max-body-bytes <n>', 'largest request body accepted (larger: 413)', String(DEFAULT_MAX_BODY_BYTES))
    .option('--drain-timeout <s>', 'on SIGTERM/SIGINT, seconds to wait for in-flight requests', '30')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = ServeOptionsSchema.safeParse(raw);
      if (!parsed.success) throw new UserError(parsed.error.issues[0]!.message);
      const o = parsed.data;
      const pool = loadPool(o.pool);
      // Signals are ours from the start (withTemporal leaves them to us): a stop during start-up
      // still tears down what was started, after the gateway comes up.
      const stop = new Promise<string>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      const keys = await openKeyStore();
      try {
        await withTemporal(
          async ({ client, embedded }) => {
            const gateway = createGateway({
              client,
              keys,
              catalog: new ModelCatalog(pool),
              timeFactor: o.timeFactor,
              maxBodyBytes: o.maxBodyBytes,
              ...(embedded ? { metricsRegistries: [workerRegistry] } : {}),
              log: (m) => process.stderr.write(`${m}\n`),
            });
            let url: string;
            try {
              url = await gateway.listen(o.port, o.host);
            } catch (e) {
              throw new UserError(`--port ${o.port} on ${o.host}: cannot listen (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
            }
            // The line tests and scripts wait for: the URL the gateway answers on.
            process.stdout.write(`agentbalance gateway listening on ${url} (pool ${pool.name}${pool.simulated ? ', SIMULATED' : ''}; keys in ${keys.location})\n`);
            const sig = await stop;
            process.stderr.write(`agentbalance: ${sig}: no new requests; draining ${gateway.inFlight()} in flight\n`);
            await gateway.close({ timeoutMs: o.drainTimeout * 1000 });
            process.stderr.write('agentbalance: gateway stopped\n');
          },
          { handleSignals: false },
        );
      } finally {
        await keys.close();
      }
    });
}
