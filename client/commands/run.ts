import type { Command } from 'commander';
import { z } from 'zod';
import { BenchmarkIdSchema, DomainSchema, type BenchmarkId } from '../../core/domain';
import type { MasSpec, RunMasResult } from '../../core/mas';
import { DEFAULT_POOL } from '../../core/pool-file';
import { loadPool } from '../../activities/pool-loader';
import { assertApiKeys } from '../../activities/providers/keys';
import { lazy } from '../lazy';
import { UserError } from '../errors';
import { EXIT, ExitCode } from '../exit';
import { boundedText, kib, LIMITS, naturalInt, nonNegativeDecimal, parseFlags, positiveDecimal, rate } from '../options';
import { buildRunInput, defaultMas, domainOf, loadTask, readSpecFile } from '../run-input';
import { formatRunResult } from '../format';

const RunOptionsSchema = z
  .object({
    spec: z.string().optional(),
    query: boundedText().refine((q) => q.trim().length > 0, 'must not be empty').optional(),
    benchmark: BenchmarkIdSchema.optional(),
    index: naturalInt().optional(),
    data: z.string().optional(),
    domain: DomainSchema.default('math'),
    pool: z.string().optional(),
    maxCost: positiveDecimal().optional(),
    maxLatency: positiveDecimal().optional(),
    timeFactor: nonNegativeDecimal().default(0),
    seed: z.string().default('0'),
    inject429: rate().default(0),
    inject5xx: rate().default(0),
    skipBadRecords: z.boolean().default(false),
    json: z.boolean().default(false),
  })
  .refine((o) => o.query !== undefined || o.benchmark !== undefined, { message: 'give --query TEXT or --benchmark B --index N' })
  .refine((o) => o.benchmark === undefined || o.index !== undefined, { message: '--benchmark needs --index N' })
  .refine((o) => o.query === undefined || o.benchmark === undefined, { message: 'give either --query or --benchmark, not both' });
type RunOptions = z.infer<typeof RunOptionsSchema>;

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
    .option('--inject-429 <rate>', 'simulated pool: probability (0-1) that a model call answers HTTP 429 (seeded)', '0')
    .option('--inject-5xx <rate>', 'simulated pool: probability (0-1) that a model call answers HTTP 5xx (seeded)', '0')
    .option('--skip-bad-records', 'skip (and count) malformed dataset records instead of stopping at the first')
    .option('--json', 'print one JSON object')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseFlags(RunOptionsSchema, raw);
      const specFile = o.spec ? await readSpecFile(o.spec) : undefined;
      const pool = loadPool(o.pool ?? specFile?.pool ?? DEFAULT_POOL);
      if ((o.inject429 > 0 || o.inject5xx > 0) && !pool.simulated) {
        throw new UserError(`--inject-429/--inject-5xx: fault injection works only with the simulated pool; ${pool.name} calls real providers`);
      }
      const task = o.benchmark !== undefined ? await loadTask(o.benchmark, o.index!, o.data, { skipBad: o.skipBadRecords }) : undefined;
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
        simulation: { timeFactor: o.timeFactor, rate429: o.inject429, rate5xx: o.inject5xx, seed: o.seed },
      });
      checkRunInputSize(input);
      // A missing API key is a clear error before any work starts.
      assertApiKeys(input.backbones);
      // Loaded here, not at the top: a bad flag is answered without loading the Temporal SDK.
      const { withTemporal } = lazy<typeof import('../temporal-env')>('../temporal-env', __filename);
      const { runMas } = lazy<typeof import('../api')>('../api', __filename);
      // Progress lines go to stderr in every mode; stdout carries only the result.
      const result: RunMasResult = await withTemporal((env) => runMas(env.client, input, { eagerStart: env.eagerStart }));
      if (o.json) {
        console.log(JSON.stringify({ ...result, pool: pool.name, ...(task ? { taskId: task.id } : {}) }));
      } else {
        console.log(formatRunResult(result, { pool: pool.name, ...(task ? { taskId: task.id } : {}) }));
      }
      const failure = allAgentsFailed(result);
      if (failure !== undefined) throw new ExitCode(EXIT.allAgentsFailed, failure);
    });
}

/**
 * When no agent answered and at least one failed on its provider, the run failed: the first
 * provider error, for stderr (the trace is printed either way).
 */
export function allAgentsFailed(r: RunMasResult): string | undefined {
  if (r.agents.some((a) => a.status === 'ok')) return undefined;
  const failed = r.agents.filter((a) => a.status === 'failed');
  if (failed.length === 0) return undefined;
  const first = failed[0]!;
  return `every agent failed; no answer (${failed.length} of ${r.agents.length} failed, first ${first.id} on ${first.backbone}: ${(first.error ?? 'unknown error').split('\n')[0]})`;
}

/** The whole workflow input stays well under Temporal's 2 MB payload limit. */
function checkRunInputSize(input: object): void {
  const bytes = Buffer.byteLength(JSON.stringify(input), 'utf8');
  if (bytes > LIMITS.runInputBytes) {
    throw new UserError(`the run's input (query, task, prompts) is ${kib(bytes)}, over the ${kib(LIMITS.runInputBytes)} limit`);
  }
}
