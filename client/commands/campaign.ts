import type { Command } from 'commander';
import { lazy } from '../lazy';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { BenchmarkIdSchema } from '../../core/domain';
import { campaignIdFor, CampaignSpecSchema, type CampaignSpec } from '../../core/campaign/spec';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { parseMethodList } from '../../core/methods';
import { loadPool } from '../../activities/pool-loader';
import { loadBenchmark } from '../../activities/datasets';
import { assertApiKeys } from '../../activities/providers/keys';
import type { CampaignProgress, CampaignSummary } from '../../workflows/campaign';
import { UserError } from '../errors';
import { nonNegativeDecimal, parseFlags, positiveInt, positiveList, rate } from '../options';
import { emptySplitMessage } from './designer';
import { failureChain, pollProgress, progressReporter } from '../progress';
import { productEnv } from '../../infra/env';

const CampaignOptionsSchema = z.object({
  benchmark: BenchmarkIdSchema,
  data: z.string().optional(),
  limit: positiveInt().optional(),
  methods: z.string().min(1),
  costBudgets: positiveList().default([]),
  latencyBudgets: positiveList().default([]),
  pool: z.string().default('sim-14'),
  concurrency: positiveInt().refine((n) => n <= 1024, 'must be at most 1024').default(8),
  seed: z.string().default('0'),
  timeFactor: nonNegativeDecimal().default(0),
  inject429: rate().default(0),
  inject5xx: rate().default(0),
  skipBadRecords: z.boolean().default(false),
  rerunMethods: z.string().optional(),
  json: z.boolean().default(false),
});

/** Builds and validates a campaign spec from CLI-shaped options (shared with `demo`). */
export function campaignSpecFrom(raw: Record<string, unknown>): { spec: CampaignSpec; json: boolean; rerunMethods: string[] } {
  const v = parseFlags(CampaignOptionsSchema, raw);
  if (v.costBudgets.length === 0 && v.latencyBudgets.length === 0) {
    throw new UserError('--cost-budgets or --latency-budgets: give at least one budget (a comma-separated list)');
  }
  const methods = v.methods.split(',').map((m) => m.trim()).filter(Boolean);
  const pool = loadPool(v.pool);
  let resolved: string[];
  try {
    // Checked against the pool here so an unknown method is named with the valid ones listed.
    resolved = parseMethodList(methods, pool.backbones);
  } catch (e) {
    throw new UserError(`--methods: ${e instanceof Error ? e.message : String(e)}`);
  }
  let rerunMethods: string[] = [];
  if (v.rerunMethods !== undefined) {
    try {
      rerunMethods = parseMethodList(v.rerunMethods, pool.backbones);
    } catch (e) {
      throw new UserError(`--rerun-methods: ${e instanceof Error ? e.message : String(e)}`);
    }
    const outside = rerunMethods.filter((m) => !resolved.includes(m));
    if (outside.length > 0) throw new UserError(`--rerun-methods: ${outside.join(', ')} not among --methods (${resolved.join(', ')})`);
  }
  if ((v.inject429 > 0 || v.inject5xx > 0) && !pool.simulated) {
    throw new UserError(`--inject-429/--inject-5xx: fault injection works only with the simulated pool; ${pool.name} calls real providers`);
  }
  const spec = CampaignSpecSchema.safeParse({
    benchmark: v.benchmark,
    ...(v.data ? { datasetPath: v.data } : {}),
    ...(v.skipBadRecords ? { skipBadRecords: true } : {}),
    ...(v.limit ? { limit: v.limit } : {}),
    seed: v.seed,
    pool: v.pool,
    methods,
    costBudgets: v.costBudgets,
    latencyBudgets: v.latencyBudgets,
    concurrency: v.concurrency,
    simulation: { timeFactor: v.timeFactor, rate429: v.inject429, rate5xx: v.inject5xx, seed: v.seed },
  });
  if (!spec.success) {
    const i = spec.error.issues[0]!;
    throw new UserError(`campaign: ${i.path.join('.') || 'spec'}: ${i.message}`);
  }
  return { spec: spec.data, json: v.json, rerunMethods };
}

const usd = (v: number) => (v < 0.01 ? `$${v.toPrecision(3)}` : `$${v.toFixed(3)}`);

/** Starts (or reattaches to) a campaign and follows it with a progress bar until it finishes. */
export async function runCampaign(spec: CampaignSpec, opts: { json: boolean; rerunMethods?: readonly string[] }): Promise<CampaignSummary> {
  const pool = loadPool(spec.pool);
  assertApiKeys(pool.backbones.filter((b) => b.provider !== 'simulated'));
  // The dataset is checked first with the light loader: bad data is one line before the campaign
  // modules (TensorFlow and the rest) load.
  const checked = await loadBenchmark(spec.benchmark, spec.datasetPath, { skipBad: spec.skipBadRecords === true });
  if (checked.skipped > 0) process.stderr.write(`agentbalance: skipped ${checked.skipped} bad record(s) of ${spec.benchmark} (--skip-bad-records)\n`);
  const { campaignTasks } = lazy<typeof import('../../activities/campaign')>('../../activities/campaign', __filename);
  const { selected, train, all } = await campaignTasks(spec);
  if (selected.length === 0) {
    throw new UserError(`campaign: ${spec.benchmark} has ${all.length} usable record(s) and its ${spec.split} split is empty; give a dataset of 10 or more records`);
  }
  if (train.length === 0 && spec.methods.some((m) => m === 'agentbalance' || m.startsWith('plugin-'))) {
    throw new UserError(`--methods: ${emptySplitMessage(spec.benchmark, all.length, 'train')}`);
  }
  const campaignId = campaignIdFor(spec, selected.map((t) => t.id));
  const say = (m: string) => {
    if (!opts.json) process.stderr.write(`${m}\n`);
  };
  say(`${pool.simulated ? 'SIMULATED pool' : 'pool'} ${pool.name} · campaign ${campaignId} · ${selected.length} queries of ${spec.benchmark}`);
  const { withTemporal } = lazy<typeof import('../temporal-env')>('../temporal-env', __filename);
  return withTemporal(
    async ({ client }) => {
      // Said also with --json (stderr): forgetting stored work must never be silent.
      if (opts.rerunMethods?.length) await forgetRuns(client, campaignId, opts.rerunMethods, (m) => process.stderr.write(`agentbalance: ${m}\n`));
      await startOrAttach(client, campaignId, spec, say);
      return follow(client, campaignId);
    },
    {
      log: say,
      onInterrupt: () =>
        process.stderr.write(
          `\nagentbalance: campaign ${campaignId} is kept durably by Temporal. Re-run the same command to reattach` +
            `${productEnv().TEMPORAL_ADDRESS ? ' (it keeps running on your workers)' : ' (it resumes when a worker runs again)'}.\n`,
        ),
    },
  );
}

/**
 * `--rerun-methods`: forgets the stored runs of some methods of a campaign that is not running, so
 * that starting it again runs just those (after a change to those methods' code; the other
 * methods' runs are kept, and with common random numbers they would come out the same).
 */
async function forgetRuns(client: Client, campaignId: string, methods: readonly string[], say: (m: string) => void): Promise<void> {
  const { WorkflowNotFoundError } = lazy<typeof import('@temporalio/client')>('@temporalio/client', __filename);
  // Only "no such workflow" means not running: any other error must not let a running campaign's
  // stored runs be forgotten (its cursor has passed them, so they would never run again).
  const running = await client.workflow
    .getHandle(campaignId)
    .describe()
    .then(
      (d) => d.status.name === 'RUNNING',
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
  if (running) throw new UserError(`--rerun-methods: campaign ${campaignId} is running; wait for it to finish (or cancel it) first`);
  const { resultsStore } = lazy<typeof import('../../activities/campaign')>('../../activities/campaign', __filename);
  const forgotten = await (await resultsStore()).deleteRuns(campaignId, methods);
  say(`--rerun-methods: forgot ${forgotten} stored run(s) of ${methods.join(', ')}; running them again`);
}

async function startOrAttach(client: Client, campaignId: string, spec: CampaignSpec, say: (m: string) => void): Promise<void> {
  const { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } = lazy<typeof import('@temporalio/client')>('@temporalio/client', __filename);
  try {
    await client.workflow.start('campaign', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: campaignId,
      args: [{ campaignId, spec }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    say(`reattached to the running campaign ${campaignId}`);
  }
}

async function follow(client: Client, campaignId: string): Promise<CampaignSummary> {
  const handle = client.workflow.getHandle(campaignId);
  // Progress always goes to stderr (also with --json, whose stdout holds only the result).
  const progress = progressReporter('campaign', 'runs');
  const poll = pollProgress<CampaignProgress>(handle, (p) => {
    const acc = p.done ? `${((100 * p.correct) / p.done).toFixed(1)}%` : '-';
    progress.update(p.done, p.total, `accuracy ${acc} | spent ${usd(p.spentUsd)}${p.failed ? ` | ${p.failed} failed` : ''}${p.paused ? ' | paused' : ''}`);
  });
  try {
    const summary = (await handle.result().catch((err: unknown) => {
      throw new Error(`campaign ${campaignId} failed: ${failureChain(err)}`);
    })) as CampaignSummary;
    progress.update(summary.done, summary.total);
    return summary;
  } finally {
    await poll.stop();
    progress.stop();
  }
}

function printSummary(s: CampaignSummary, json: boolean): void {
  if (json) {
    const curvesFile = s.reportFiles.json;
    console.log(JSON.stringify({ campaignId: s.campaignId, simulated: s.simulated, auc: s.auc, curves: curvesOf(curvesFile), report: s.reportFiles, done: s.done, failed: s.failed ?? 0, total: s.total }));
    return;
  }
  console.log(`${s.simulated ? 'SIMULATED — ' : ''}campaign ${s.campaignId}: ${s.done}/${s.total} runs${s.failed ? ` (${s.failed} failed, stored with their error)` : ''}, accuracy ${s.done ? ((100 * s.correct) / s.done).toFixed(1) : '-'}%, spent ${usd(s.spentUsd)}`);
  for (const [kind, byMethod] of Object.entries(s.auc)) {
    const ranked = Object.entries(byMethod).sort((a, b) => b[1] - a[1]);
    console.log(`${kind}-AUC: ${ranked.map(([m, v]) => `${m} ${v.toFixed(3)}`).join(' · ')}`);
  }
  console.log(`report: ${s.reportFiles.markdown}`);
  for (const c of s.reportFiles.charts) console.log(`chart:  ${c}`);
}

function curvesOf(jsonPath: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const report = require(jsonPath) as { curves?: unknown };
  return report.curves ?? null;
}

export function registerCampaignCommands(program: Command): void {
  program
    .command('campaign')
    .description('sweep budgets over a benchmark for several methods; report accuracy-vs-budget curves and AUC')
    .requiredOption('--benchmark <id>', `benchmark: ${BenchmarkIdSchema.options.join(', ')}`)
    .option('--data <path>', 'benchmark file or folder (default ../shared/datasets; built-in for sample-*)')
    .option('--limit <n>', 'use the first N queries of the test split')
    .requiredOption('--methods <list>', 'comma-separated methods, e.g. agentbalance,chain,single:gpt-4o-mini (all, baselines, single:*)')
    .option('--cost-budgets <list>', 'comma-separated per-query cost budgets in USD')
    .option('--latency-budgets <list>', 'comma-separated per-query latency budgets in seconds')
    .option('--pool <name|file>', 'backbone pool', 'sim-14')
    .option('--concurrency <n>', 'runs in flight', '8')
    .option('--seed <s>', 'seed', '0')
    .option('--time-factor <x>', 'simulated pool: real seconds per simulated second', '0')
    .option('--inject-429 <rate>', 'simulated pool: probability (0-1) that a model call answers HTTP 429 (seeded)', '0')
    .option('--inject-5xx <rate>', 'simulated pool: probability (0-1) that a model call answers HTTP 5xx (seeded)', '0')
    .option('--skip-bad-records', 'skip malformed dataset records (counted on stderr) instead of refusing the dataset')
    .option('--rerun-methods <list>', 'forget the stored runs of these methods and run them again (after changing their code)')
    .option('--json', 'print one JSON object (campaignId, simulated, auc, curves)')
    .action(async (raw: Record<string, unknown>) => {
      const { spec, json, rerunMethods } = campaignSpecFrom(raw);
      printSummary(await runCampaign(spec, { json, rerunMethods }), json);
    });

  program
    .command('report <campaignId>')
    .description('re-render a campaign report (Markdown, JSON, SVG and PNG charts) from the results store')
    .action(async (id: string) => {
      const { renderCampaignReport } = lazy<typeof import('../../activities/campaign')>('../../activities/campaign', __filename);
      const r = await renderCampaignReport(id).catch((e: unknown) => {
        throw new UserError(e instanceof Error ? e.message : String(e));
      });
      console.log(`report: ${r.files.markdown}`);
      for (const c of r.files.charts) console.log(`chart:  ${c}`);
    });

  program
    .command('demo')
    .description('the main job on embedded defaults: a small campaign on the built-in sample with the simulated pool')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      const { spec, json } = campaignSpecFrom({
        benchmark: 'sample-math',
        limit: '20',
        methods: 'agentbalance,single:gpt-4.1-nano,single:gpt-4o-mini,single:o4-mini,chain,debate,cascade,plugin-agentprune',
        costBudgets: '0.0002,0.001,0.005',
        latencyBudgets: '2,6,20',
        concurrency: '32',
        json: o.json ?? false,
      });
      printSummary(await runCampaign(spec, { json }), json);
    });
}
