import { Context } from '@temporalio/activity';
import { loadSplits } from './datasets';
import { ensureDesigner } from './designer-service';
import { loadPool } from './pool-loader';
import { loadOpts, type DesignerJobArgs } from './profiling-jobs';

/** Trains (or loads) the designer for (pool, benchmark), heartbeating with the step. */
async function trainDesignerJob(args: DesignerJobArgs): Promise<{ file: string; profileHash: string; steps: number; finalReward: number | null }> {
  const pool = loadPool(args.pool);
  const { train } = await loadSplits(args.benchmark, args.datasetPath, args.seed, loadOpts(args));
  const loaded = await ensureDesigner({
    pool,
    benchmark: args.benchmark,
    trainTasks: train,
    seed: args.seed,
    retrain: true,
    ...(args.steps ? { options: { steps: args.steps } } : {}),
    onProgress: (step, steps) => Context.current().heartbeat({ step, steps }),
  });
  const curve = loaded.designer.curve;
  const last = curve.at(-1) as { reward?: number } | undefined;
  return { file: loaded.file, profileHash: loaded.profile.profileHash, steps: curve.length, finalReward: last?.reward ?? null };
}

/** The design workflow's activity: training the designer on a benchmark's train split. */
export function createDesignJobActivities() {
  return { trainDesignerJob };
}
