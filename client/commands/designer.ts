import type { Command } from 'commander';
import { lazy } from '../lazy';
import { z } from 'zod';
import { BenchmarkIdSchema } from '../../core/domain';
import { DEFAULT_POOL } from '../../core/pool-file';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { loadBenchmark, loadSplits } from '../../activities/datasets';
import { loadPool } from '../../activities/pool-loader';
import type { DesignerJobArgs, fitStoredProfile, ProfileJobArgs } from '../../activities/profiling-jobs';
import { DEFAULT_PROFILE_CONCURRENCY } from '../../core/pool';
import type { ProfilingProgress } from '../../workflows/profiling';
import { createHash } from 'node:crypto';
import { BAND_CENTER, selectPool, type DifficultyBand } from '../../core/designer/selection';
import { BENCHMARK_DOMAIN } from '../../core/domain';
import { UserError } from '../errors';
import { parseFlags, positiveInt } from '../options';
import { reportSkipped } from '../run-input';
import { setDesignHook } from './run';
import { failureChain, pollProgress, progressReporter } from '../progress';

const JobOptionsSchema = z.object({
  pool: z.string().default(DEFAULT_POOL),
  benchmark: BenchmarkIdSchema,
  data: z.string().optional(),
  seed: z.string().default('0'),
  limit: positiveInt().optional(),
  steps: positiveInt().optional(),
  skipBadRecords: z.boolean().default(false),
});

const SelectOptionsSchema = z.object({
  pool: z.string().default(DEFAULT_POOL),
  benchmark: BenchmarkIdSchema,
  k: positiveInt().default(3),
  json: z.boolean().default(false),
});

const HeartbeatSchema = z.object({ step: z.number(), steps: z.number() });

/**
 * Validated job arguments; the dataset is loaded here too, so a missing, malformed or too small
 * one is reported before any server starts.
 */
async function jobArgs(raw: Record<string, unknown>, split: 'profile' | 'train'): Promise<DesignerJobArgs> {
  const o = parseFlags(JobOptionsSchema, raw);
  loadPool(o.pool); // a bad pool is a user error before any work starts
  const loaded = await loadBenchmark(o.benchmark, o.data, { skipBad: o.skipBadRecords });
  reportSkipped(o.benchmark, loaded);
  const splits = await loadSplits(o.benchmark, o.data, o.seed, { skipBad: o.skipBadRecords });
  if (splits[split].length === 0) throw new UserError(emptySplitMessage(o.benchmark, splits.all.length, split));
  return {
    pool: o.pool,
    benchmark: o.benchmark,
    seed: o.seed,
    ...(o.data ? { datasetPath: o.data } : {}),
    ...(o.limit ? { limit: o.limit } : {}),
    ...(o.steps ? { steps: o.steps } : {}),
    ...(o.skipBadRecords ? { skipBadRecords: true } : {}),
  };
}

/** Why a split is empty and what would fix it (splits are 20 % profile, 30 % train by a seeded hash of the ids). */
export function emptySplitMessage(benchmark: string, records: number, split: 'profile' | 'train'): string {
  const share = split === 'profile' ? '20 %' : '30 %';
  const need = split === 'train' ? 'training the designer needs at least one query there' : 'profiling needs at least one query there';
  return `${benchmark}: the dataset has ${records} usable record(s) and none falls in its ${split} split (${share} of the records, by a seeded hash); ${need}: give a dataset of 10 or more records${split === 'train' ? ', or pass --spec FILE to run your own MAS' : ''}`;
}

const ProfileOptionsSchema = z.object({
  concurrency: positiveInt().default(DEFAULT_PROFILE_CONCURRENCY),
  concurrencyPerBackbone: positiveInt().optional(),
});

/** Profiling job arguments with the deterministic id of (pool, benchmark, data, limit, seed): a rerun reattaches. */
async function profileArgs(raw: Record<string, unknown>): Promise<ProfileJobArgs> {
  const { concurrency, concurrencyPerBackbone, ...rest } = raw;
  const o = parseFlags(ProfileOptionsSchema, { concurrency, concurrencyPerBackbone });
  const base = await jobArgs(rest, 'profile');
  const limit = base.limit ?? 40;
  const pool = loadPool(base.pool);
  const tag = createHash('sha256')
    .update(JSON.stringify([pool.name, pool.backbones.map((b) => b.id), base.datasetPath ?? null]))
    .digest('hex')
    .slice(0, 8);
  return {
    ...base,
    limit,
    profileId: `profile-${base.pool.replace(/[^\w.-]/g, '_').slice(-40)}-${base.benchmark}-l${limit}-s${base.seed.replace(/[^\w.-]/g, '_').slice(0, 20)}-${tag}`,
    concurrency: o.concurrency,
    ...(o.concurrencyPerBackbone !== undefined ? { perBackbone: o.concurrencyPerBackbone } : {}),
  };
}

/**
 * Runs profiling (the `profilePool` workflow) for one benchmark's profile split and saves the pool
 * profile where the designer finds it (activities/designer-service.ts currentProfile). `raw` holds
 * the `profile` command's flags (pool, benchmark, data, limit, seed, concurrency, ...).
 */
export async function profileBenchmark(raw: Record<string, unknown>): Promise<Awaited<ReturnType<typeof fitStoredProfile>>> {
  const args = await profileArgs(raw);
  const { withTemporal } = lazy<typeof import('../temporal-env')>('../temporal-env', __filename);
  const { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } = lazy<typeof import('@temporalio/client')>('@temporalio/client', __filename);
  const res = await withTemporal(async ({ client }) => {
    let handle;
    try {
      handle = await client.workflow.start('profilePool', {
        taskQueue: MAIN_TASK_QUEUE,
        workflowId: args.profileId,
        args: [args],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      process.stderr.write(`agentbalance: profiling ${args.profileId}\n`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      process.stderr.write(`agentbalance: reattached to the running profiling ${args.profileId}\n`);
      handle = client.workflow.getHandle(args.profileId);
    }
    const progress = progressReporter('profiling', 'calls');
    const poll = pollProgress<ProfilingProgress>(handle, (p) => progress.update(p.done + (p.failed ?? 0), p.total, p.failed ? `${p.failed} failed` : undefined));
    try {
      return (await handle.result().catch((err: unknown) => {
        throw new Error(`profiling ${args.profileId} failed: ${failureChain(err)}`);
      })) as Awaited<ReturnType<typeof fitStoredProfile>>;
    } finally {
      await poll.stop();
      progress.stop();
    }
  });
  return res;
}

export function registerDesignerCommands(program: Command): void {
  program
    .command('profile')
    .description('profile every backbone of a pool alone on the profile split; fit latency models, IRT and the difficulty regressor')
    .option('--pool <name|file>', 'backbone pool', DEFAULT_POOL)
    .requiredOption('--benchmark <id>', 'benchmark')
    .option('--data <path>', 'benchmark file or folder')
    .option('--limit <n>', 'profile-split queries per backbone', '40')
    .option('--seed <s>', 'split seed', '0')
    .option('--concurrency <n>', 'profiling calls in flight overall', String(DEFAULT_PROFILE_CONCURRENCY))
    .option('--concurrency-per-backbone <n>', "calls in flight per backbone (default: the pool file's maxConcurrency; 1 for endpoints on this machine)")
    .option('--skip-bad-records', 'skip (and count) malformed dataset records')
    .action(async (raw: Record<string, unknown>) => {
      const res = await profileBenchmark(raw);
      console.log(`pool profile saved: ${res.file}`);
      console.log(
        `IRT ${res.report.irt} over ${res.report.items} items, abilities around the pool file's (prior sd ${res.report.thetaPriorSd}); difficulty regressor RMSE ${res.report.regressorTrainRmse.toFixed(3)} (training), ${res.report.regressorHeldOutRmse.toFixed(3)} (held out: the designer's σ_b)`,
      );
    });

  program
    .command('design')
    .description('train the agentbalance designer for a pool and benchmark (REINFORCE, Lagrangian reward) and save it')
    .option('--pool <name|file>', 'backbone pool', DEFAULT_POOL)
    .requiredOption('--benchmark <id>', 'benchmark')
    .option('--data <path>', 'benchmark file or folder')
    .option('--steps <n>', 'training steps')
    .option('--seed <s>', 'seed', '0')
    .option('--skip-bad-records', 'skip (and count) malformed dataset records')
    .action(async (raw: Record<string, unknown>) => {
      const args = await jobArgs(raw, 'train');
      const { withTemporal } = lazy<typeof import('../temporal-env')>('../temporal-env', __filename);
      const { defaultPayloadConverter } = lazy<typeof import('@temporalio/common')>('@temporalio/common', __filename);
      const res = await withTemporal(async ({ client }) => {
        const handle = await client.workflow.start('designPool', {
          taskQueue: MAIN_TASK_QUEUE,
          workflowId: `design-${args.pool.replace(/[^\w.-]/g, '_')}-${args.benchmark}-${Date.now().toString(36)}`,
          args: [args],
        });
        // Training progress is the training activity's heartbeat ({step, steps}), read from describe().
        const progress = progressReporter('training', 'steps');
        let inflight: Promise<void> | undefined;
        const timer = setInterval(() => {
          if (inflight) return;
          inflight = handle
            .describe()
            .then((d) => {
              const payload = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
              if (!payload) return;
              const beat = HeartbeatSchema.safeParse(defaultPayloadConverter.fromPayload(payload));
              if (!beat.success) return;
              progress.update(beat.data.step, beat.data.steps);
            })
            .catch(() => undefined)
            .finally(() => {
              inflight = undefined;
            });
        }, 1000);
        try {
          return await handle.result().catch((err: unknown) => {
            throw new Error(`design failed: ${failureChain(err)}`);
          });
        } finally {
          clearInterval(timer);
          await inflight;
          progress.stop();
        }
      });
      console.log(`designer saved: ${res.file} (pool profile ${res.profileHash.slice(0, 12)})`);
    });

  program
    .command('select')
    .description('difficulty-aware pool selection: the Pareto front per difficulty band and the K backbones kept')
    .option('--pool <name|file>', 'backbone pool', DEFAULT_POOL)
    .requiredOption('--benchmark <id>', 'benchmark (its domain and profile are used)')
    .option('--k <n>', 'representatives per band (k-medoids)', '3')
    .option('--json', 'print JSON')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseFlags(SelectOptionsSchema, raw);
      const k = o.k;
      const pool = loadPool(o.pool);
      const { currentProfile } = lazy<typeof import('../../activities/designer-service')>('../../activities/designer-service', __filename);
      const profile = currentProfile(pool, o.benchmark);
      const domain = BENCHMARK_DOMAIN[o.benchmark];
      const results = (Object.keys(BAND_CENTER) as DifficultyBand[]).map((band) =>
        selectPool(profile, { domain, difficulty: BAND_CENTER[band], k, inputTokens: 300 }),
      );
      if (o.json) {
        console.log(JSON.stringify({ pool: pool.name, simulated: pool.simulated, profile: profile.source, domain, bands: results }));
        return;
      }
      console.log(`${pool.simulated ? 'SIMULATED pool' : 'pool'} ${pool.name} · ${domain} · profile from ${profile.source}`);
      for (const r of results) {
        console.log(`\n${r.band} (difficulty ${r.difficulty}): Pareto front of accuracy ↑, cost ↓, latency ↓`);
        for (const m of r.front) {
          const mark = r.chosen.includes(m.id) ? (r.medoids.includes(m.id) ? '* medoid' : '* anchor') : '';
          console.log(`  ${m.id.padEnd(18)} acc ${(100 * m.accuracy).toFixed(1).padStart(5)}%  $${m.costUsd.toExponential(2)}  ${m.latencyS.toFixed(2)}s  ${mark}`);
        }
        console.log(`  kept: ${r.chosen.join(', ')}`);
      }
    });

  // `run --benchmark B --index N` designs its MAS with the saved designer (training a small one first if needed).
  setDesignHook(async ({ options, pool, benchmark, task }) => {
    const { train, all } = await loadSplits(benchmark, options.data, '0', { skipBad: options.skipBadRecords });
    const { ensureDesigner } = lazy<typeof import('../../activities/designer-service')>('../../activities/designer-service', __filename);
    if (!options.json && train.length > 0) process.stderr.write('agentbalance: loading the designer (trains a small one on first use)...\n');
    let loaded: Awaited<ReturnType<typeof ensureDesigner>>;
    try {
      loaded = await ensureDesigner({ pool, benchmark, trainTasks: train, seed: '0' });
    } catch (e) {
      // With no saved designer, an empty train split is the dataset's fault, not a crash.
      if (train.length === 0) throw new UserError(`run --benchmark: ${emptySplitMessage(benchmark, all.length, 'train')}`);
      throw e;
    }
    const { planOneMas } = lazy<typeof import('../design')>('../design', __filename);
    const budgets = { ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}), ...(options.maxLatency !== undefined ? { maxLatencyS: options.maxLatency } : {}) };
    const plan = planOneMas(loaded, pool, task, budgets);
    return plan.spec;
  });
}
