import type { Command } from 'commander';
import { z } from 'zod';
import { BenchmarkIdSchema, DomainSchema, type BenchmarkId } from '../../core/domain';
import type { MasSpec, RunMasResult } from '../../core/mas';
import { DEFAULT_POOL } from '../../core/pool-file';
import { loadPool } from '../../activities/pool-loader';
import { assertApiKeys } from '../../activities/providers/keys';
import { runMas } from '../api';
import { UserError } from '../errors';
import { withTemporal } from '../temporal-env';
import { buildRunInput, defaultMas, domainOf, loadTask, readSpecFile } from '../run-input';
import { formatRunResult } from '../format';

const positive = (name: string) =>
  z.coerce.number({ error: `${name} must be a number` }).refine((v) => Number.isFinite(v) && v > 0, `${name} must be a positive number`);

const RunOptionsSchema = z
  .object({
    spec: z.string().optional(),
    query: z.string().min(1, '--query must not be empty').optional(),
    benchmark: BenchmarkIdSchema.optional(),
    index: z.coerce.number().int('--index must be an integer').nonnegative('--index must be ≥ 0').optional(),
    data: z.string().optional(),
    domain: DomainSchema.default('math'),
    pool: z.string().optional(),
    maxCost: positive('--max-cost').optional(),
    maxLatency: positive('--max-latency').optional(),
    timeFactor: z.coerce.number().nonnegative('--time-factor must be ≥ 0').default(0),
    seed: z.string().default('0'),
    json: z.boolean().default(false),
  })
  .refine((o) => o.query !== undefined || o.benchmark !== undefined, { message: 'give --query TEXT or --benchmark B --index N' })
  .refine((o) => o.benchmark === undefined || o.index !== undefined, { message: '--benchmark needs --index N' });
export type RunOptions = z.infer<typeof RunOptionsSchema>;

/** Optional hook the designer installs: the MAS agentbalance designs for this query and budget. */
export type DesignHook = (args: {
  options: RunOptions;
  pool: ReturnType<typeof loadPool>;
  benchmark: BenchmarkId;
  task: Awaited<ReturnType<typeof loadTask>>;
}) => Promise<MasSpec>;

let designHook: DesignHook | undefined;
export function setDesignHook(h: DesignHook): void {
  designHook = h;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run one multi-agent system for one query under cost and latency budgets')
    .option('--spec <file.json>', 'MAS spec file (agents, edges, decision, optional pool and domain)')
    .option('--query <text>', 'the query to answer')
    .option('--benchmark <id>', `a benchmark item instead of --query: ${BenchmarkIdSchema.options.join(', ')}`)
    .option('--index <n>', 'item index in the benchmark')
    .option('--data <path>', 'benchmark file or folder (default: ../shared/datasets, or built-in for sample-*)')
    .option('--domain <domain>', 'domain of a free-form --query: math, knowledge or code', 'math')
    .option('--pool <name|file>', `backbone pool (default ${DEFAULT_POOL})`)
    .option('--max-cost <usd>', 'token-cost budget in USD')
    .option('--max-latency <s>', 'latency budget in seconds')
    .option('--time-factor <x>', 'simulated pool: real seconds waited per simulated second', '0')
    .option('--seed <s>', 'simulated pool seed', '0')
    .option('--json', 'print one JSON object')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = RunOptionsSchema.safeParse(raw);
      if (!parsed.success) throw new UserError(parsed.error.issues[0]!.message);
      const o = parsed.data;
      const specFile = o.spec ? await readSpecFile(o.spec) : undefined;
      const pool = loadPool(o.pool ?? specFile?.pool ?? DEFAULT_POOL);
      const task = o.benchmark !== undefined ? await loadTask(o.benchmark, o.index!, o.data) : undefined;
      const domain = specFile?.domain ?? domainOf(o.benchmark, o.domain);
      let spec: MasSpec;
      if (specFile) {
        const { pool: _p, domain: _d, ...rest } = specFile;
        spec = rest;
      } else if (task && designHook) {
        spec = await designHook({ options: o, pool, benchmark: o.benchmark!, task });
      } else {
        spec = defaultMas(domain);
      }
      const input = buildRunInput({
        pool,
        spec,
        query: task?.question ?? o.query!,
        ...(task ? { task } : {}),
        domain,
        ...(o.benchmark ? { benchmark: o.benchmark } : {}),
        budgets: { ...(o.maxCost !== undefined ? { maxCostUsd: o.maxCost } : {}), ...(o.maxLatency !== undefined ? { maxLatencyS: o.maxLatency } : {}) },
        simulation: { timeFactor: o.timeFactor, rate429: 0, rate5xx: 0, seed: o.seed },
      });
      // A missing API key is a clear error before any work starts.
      assertApiKeys(input.backbones);
      const result: RunMasResult = await withTemporal((env) => runMas(env.client, input), { log: o.json ? () => {} : undefined });
      if (o.json) {
        console.log(JSON.stringify({ ...result, pool: pool.name, ...(task ? { taskId: task.id } : {}) }));
      } else {
        console.log(formatRunResult(result, { pool: pool.name, ...(task ? { taskId: task.id } : {}) }));
      }
    });
}
