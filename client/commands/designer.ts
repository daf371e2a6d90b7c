import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { defaultPayloadConverter } from '@temporalio/common';
import { BenchmarkIdSchema } from '../../core/domain';
import { DEFAULT_POOL } from '../../core/pool-file';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { currentProfile, designerPlanner, ensureDesigner } from '../../activities/designer-service';
import { loadSplits } from '../../activities/datasets';
import { decisionRole, rolesFor } from '../../core/roles';
import { loadPool } from '../../activities/pool-loader';
import type { DesignerJobArgs } from '../../activities/designer-jobs';
import { BAND_CENTER, selectPool, type DifficultyBand } from '../../core/designer/selection';
import { BENCHMARK_DOMAIN } from '../../core/domain';
import { UserError } from '../errors';
import { withTemporal } from '../temporal-env';
import { setDesignHook } from './run';
import { pollProgress } from '../progress';

const JobOptionsSchema = z.object({
  pool: z.string().default(DEFAULT_POOL),
  benchmark: BenchmarkIdSchema,
  data: z.string().optional(),
  seed: z.string().default('0'),
  limit: z.coerce.number().int().positive('--limit must be a positive integer').optional(),
  steps: z.coerce.number().int().positive('--steps must be a positive integer').optional(),
});

const HeartbeatSchema = z.object({ step: z.number(), steps: z.number() });

function jobArgs(raw: Record<string, unknown>): DesignerJobArgs {
  const o = JobOptionsSchema.safeParse(raw);
  if (!o.success) throw new UserError(o.error.issues[0]!.message);
  loadPool(o.data.pool); // a bad pool is a user error before any work starts
  return {
    pool: o.data.pool,
    benchmark: o.data.benchmark,
    seed: o.data.seed,
    ...(o.data.data ? { datasetPath: o.data.data } : {}),
    ...(o.data.limit ? { limit: o.data.limit } : {}),
    ...(o.data.steps ? { steps: o.data.steps } : {}),
  };
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
    .action(async (raw: Record<string, unknown>) => {
      const args = jobArgs(raw);
      const res = await withTemporal(async ({ client }) => {
        const handle = await client.workflow.start('profilePool', {
          taskQueue: MAIN_TASK_QUEUE,
          workflowId: `profile-${args.pool.replace(/[^\w.-]/g, '_')}-${args.benchmark}-${args.seed}-${Date.now().toString(36)}`,
          args: [args],
        });
        const bar = new cliProgress.SingleBar({ format: ' profiling {bar} {value}/{total} calls | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic);
        let started = false;
        const poll = pollProgress<{ done: number; total: number }>(handle, (p) => {
          if (!started && p.total) {
            bar.start(p.total, p.done);
            started = true;
          } else if (started) bar.update(p.done);
        });
        try {
          return await handle.result();
        } finally {
          await poll.stop();
          if (started) bar.stop();
        }
      });
      console.log(`pool profile saved: ${res.file}`);
      console.log(`IRT ${res.report.irt} over ${res.report.items} items; difficulty regressor RMSE ${res.report.regressorTrainRmse.toFixed(3)}`);
    });

  program
    .command('design')
    .description('train the agentbalance designer for a pool and benchmark (REINFORCE, Lagrangian reward) and save it')
    .option('--pool <name|file>', 'backbone pool', DEFAULT_POOL)
    .requiredOption('--benchmark <id>', 'benchmark')
    .option('--data <path>', 'benchmark file or folder')
    .option('--steps <n>', 'training steps')
    .option('--seed <s>', 'seed', '0')
    .action(async (raw: Record<string, unknown>) => {
      const args = jobArgs(raw);
      const res = await withTemporal(async ({ client }) => {
        const handle = await client.workflow.start('designPool', {
          taskQueue: MAIN_TASK_QUEUE,
          workflowId: `design-${args.pool.replace(/[^\w.-]/g, '_')}-${args.benchmark}-${Date.now().toString(36)}`,
          args: [args],
        });
        // Training progress is the training activity's heartbeat ({step, steps}), read from describe().
        const bar = new cliProgress.SingleBar({ format: ' training {bar} step {value}/{total} | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic);
        let started = false;
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
              if (!started) {
                bar.start(beat.data.steps, beat.data.step);
                started = true;
              } else bar.update(beat.data.step);
            })
            .catch(() => undefined)
            .finally(() => {
              inflight = undefined;
            });
        }, 1000);
        try {
          return await handle.result();
        } finally {
          clearInterval(timer);
          await inflight;
          if (started) bar.stop();
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
    .action((raw: { pool: string; benchmark: string; k: string; json?: boolean }) => {
      const bench = BenchmarkIdSchema.safeParse(raw.benchmark);
      if (!bench.success) throw new UserError(`unknown benchmark "${raw.benchmark}"`);
      const k = Number(raw.k);
      if (!Number.isInteger(k) || k < 1) throw new UserError('--k must be a positive integer');
      const pool = loadPool(raw.pool);
      const profile = currentProfile(pool, bench.data);
      const domain = BENCHMARK_DOMAIN[bench.data];
      const results = (Object.keys(BAND_CENTER) as DifficultyBand[]).map((band) =>
        selectPool(profile, { domain, difficulty: BAND_CENTER[band], k, inputTokens: 300 }),
      );
      if (raw.json) {
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
    const { train } = await loadSplits(benchmark, options.data, '0');
    if (!options.json) process.stderr.write('agentbalance: loading the designer (trains a small one on first use)...\n');
    const loaded = await ensureDesigner({ pool, benchmark, trainTasks: train, seed: '0' });
    const roles = rolesFor(task.domain, benchmark);
    const decision = decisionRole(task.domain, benchmark);
    const plan = designerPlanner(loaded)({
      task,
      budgets: { ...(options.maxCost !== undefined ? { maxCostUsd: options.maxCost } : {}), ...(options.maxLatency !== undefined ? { maxLatencyS: options.maxLatency } : {}) },
      backbones: pool.backbones,
      roles: roles.map((r) => ({ id: r.id, prompt: r.prompt })),
      decisionRole: { id: decision.id, prompt: decision.prompt },
      seed: '0',
    });
    return plan.spec;
  });
}
