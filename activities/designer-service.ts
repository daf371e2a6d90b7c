import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BenchmarkId, Domain } from '../core/domain';
import { designMas, type RoleInfo } from '../core/designer/designer';
import { assignBackbones, noAgentWeaker, pluginImproves } from '../core/designer/plugin';
import { choosePortfolio, DEFAULT_PORTFOLIO, portfolio, scoreSpec, type PortfolioHyper, type ScoreRequest } from '../core/designer/portfolio';
import { COT_AGGREGATE, COT_SAMPLE } from '../core/methods/templates';
import { countTokens } from '../core/tokens';
import type { MasSpec } from '../core/mas';
import type { Embedder } from '../core/designer/embed';
import type { MatchingSolver } from '../core/designer/matching';
import { difficultySpreadOf, parsePoolProfile, predictDifficulty, profileFromPoolFile, type PoolProfile } from '../core/profiling/pool-profile';
import { DIFFICULTY_PRIOR } from '../core/sim/calibration';
import { TrainedDesignerSchema, type TrainedDesigner } from '../core/designer/trained-designer';
import type { MethodContext, MethodPlan } from '../core/methods';
import type { PoolFile } from '../core/pool-file';
import { DECISION_ROLE_ID, decisionRole, rolesFor } from '../core/roles';
import type { Task } from '../core/task';
import { stateDir } from '../infra/paths';
import { embedderFromConfig } from './embedders';
import { createHighsMatchingSolver } from './matching-solver';
import { trainDesigner, type TrainingOptions } from './training';

export interface LoadedDesigner {
  designer: TrainedDesigner;
  profile: PoolProfile;
  solver: MatchingSolver;
  embedder: Embedder;
  file: string;
}

/** Training settings for designers trained on demand (campaigns, `run --benchmark`): small and quick. */
const ON_DEMAND_TRAINING: Partial<TrainingOptions> = { steps: 150, batch: 16 };

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}

function rolesForDesign(domain: Domain, benchmark: BenchmarkId): { roles: RoleInfo[]; decisionRole: string } {
  const roles = [...rolesFor(domain, benchmark), decisionRole(domain, benchmark)].map((r) => ({ id: r.id, domain, prompt: r.prompt }));
  return { roles, decisionRole: DECISION_ROLE_ID };
}

export function profileFile(pool: PoolFile, benchmark: BenchmarkId): string {
  return path.join(stateDir(), 'profiles', `${pool.name}-${benchmark}.json`);
}

/**
 * The pool profile the designer uses: the one fitted by `agentbalance profile` when it exists,
 * else the pool file's own profile with the benchmark's prior difficulty (derived from the public
 * scores the pool cites).
 * @public loaded lazily by client/commands/designer.ts.
 */
export function currentProfile(pool: PoolFile, benchmark: BenchmarkId): PoolProfile {
  const file = profileFile(pool, benchmark);
  if (existsSync(file)) return parsePoolProfile(JSON.parse(readFileSync(file, 'utf8')));
  return profileFromPoolFile(pool.backbones, { simulated: pool.simulated, difficultyPrior: DIFFICULTY_PRIOR[benchmark].mu });
}

function designerFile(pool: PoolFile, benchmark: BenchmarkId, profile: PoolProfile): string {
  return path.join(stateDir(), 'designers', `${pool.name}-${benchmark}-${profile.profileHash.slice(0, 12)}.json`);
}

/**
 * The trained designer for (pool, benchmark): loaded from the state folder, or trained now on the
 * benchmark's train split and saved (a versioned artifact tied to the pool profile's hash).
 */
export async function ensureDesigner(args: {
  pool: PoolFile;
  benchmark: BenchmarkId;
  trainTasks: readonly Task[];
  seed: string;
  options?: Partial<TrainingOptions>;
  /** Train even when a saved designer exists (the `design` command). */
  retrain?: boolean;
  onProgress?: (step: number, steps: number) => void;
}): Promise<LoadedDesigner> {
  const profile = currentProfile(args.pool, args.benchmark);
  const file = designerFile(args.pool, args.benchmark, profile);
  let designer: TrainedDesigner | undefined;
  if (existsSync(file) && !args.retrain) {
    // An artifact from an older designer version is retrained rather than trusted.
    const saved = TrainedDesignerSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (saved.success) designer = saved.data;
  }
  if (!designer) {
    if (args.trainTasks.length === 0) throw new Error(`no training queries for ${args.benchmark}: cannot train the designer`);
    const domain = args.trainTasks[0]!.domain;
    const heartbeat = inActivity();
    designer = await trainDesigner(
      {
        profile,
        roles: { [domain]: rolesForDesign(domain, args.benchmark) },
        queries: args.trainTasks.map((t) => ({ text: t.question, domain: t.domain })),
        options: { ...ON_DEMAND_TRAINING, seed: `train-${args.seed}`, ...(args.options ?? {}) },
      },
      {
        // Training shares the worker's event loop with workflow tasks and heartbeats: yield
        // to it after every step so neither stalls while the designer trains.
        onProgress: async (p) => {
          if (heartbeat) Context.current().heartbeat(p.step);
          args.onProgress?.(p.step, p.steps);
          await new Promise((r) => setImmediate(r));
        },
      },
    );
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(designer));
    renameSync(`${file}.tmp`, file);
  }
  const embedder = embedderFromConfig(designer.embedder);
  return { designer, profile, solver: await createHighsMatchingSolver(), embedder, file };
}

/**
 * The `agentbalance` method: per query and budget, the best of the design space by predicted
 * accuracy under both budgets (core/designer/portfolio.ts): the trained designer's learned topology,
 * one agent, k samples with a vote, or a cheap-then-strong cascade.
 */
export function designerPlanner(d: LoadedDesigner, hyper: Partial<PortfolioHyper> = {}): (ctx: MethodContext) => MethodPlan {
  return (ctx) => {
    const domain = ctx.task.domain;
    const roles: RoleInfo[] = [...ctx.roles, ctx.decisionRole].map((r) => ({ id: r.id, domain, prompt: r.prompt }));
    const rolePrompts = Object.fromEntries(roles.map((r) => [r.id, r.prompt]));
    const res = designMas({
      query: ctx.task.question,
      domain,
      budgets: ctx.budgets,
      designer: d.designer,
      profile: d.profile,
      roles,
      decisionRole: ctx.decisionRole.id,
      embedder: d.embedder,
      solver: d.solver,
    });
    const entries = portfolio({
      ...scoreRequest(d, ctx, res.predicted.difficulty, hyper),
      decisionRole: ctx.decisionRole,
      votePrompts: { sample: COT_SAMPLE, aggregate: COT_AGGREGATE },
      choiceOptions: ctx.task.answer.kind === 'choice' ? ctx.task.answer.options.length || 4 : 0,
      learned: { spec: res.spec, rolePrompts },
    });
    const pick = choosePortfolio(entries, ctx.budgets, hyper);
    const predicted = `predicted acc ${pick.score.toFixed(3)} under the budgets, $${pick.costUsd.toPrecision(3)}, ${pick.latencyS.toFixed(2)} s`;
    return {
      spec: pick.spec,
      rolePrompts,
      ...(pick.cascade ? { cascade: { ...pick.cascade, rule: 'two-samples-agree' as const } } : {}),
      note: `agentbalance: ${pick.label} (${predicted}; of ${entries.length} candidates)`,
      predicted: {
        costUsd: pick.worstCostUsd,
        latencyS: pick.worstLatencyS,
        fits:
          (ctx.budgets.maxCostUsd === undefined || pick.worstCostUsd <= ctx.budgets.maxCostUsd) &&
          (ctx.budgets.maxLatencyS === undefined || pick.worstLatencyS <= ctx.budgets.maxLatencyS),
      },
    };
  };
}

/** What the portfolio scores a design of this query with (the planner's and the plug-in's in common). */
function scoreRequest(d: LoadedDesigner, ctx: MethodContext, difficulty: number, hyper: Partial<PortfolioHyper>): ScoreRequest {
  const spread = difficultySpreadOf(d.profile.difficultyRegressor);
  return {
    profile: d.profile,
    domain: ctx.task.domain,
    budgets: ctx.budgets,
    difficulty,
    ...(spread !== undefined ? { difficultySpread: spread } : {}),
    queryTokens: countTokens(ctx.task.question),
    countTokens: cachedCount,
    peerSway: { min: d.designer.hyper.peerSwayMin, max: d.designer.hyper.peerSwayMax },
    hyper,
  };
}

const countCache = new Map<string, number>();
/** Prompt token counts, cached: the portfolio counts the same few personas for every query. */
function cachedCount(text: string): number {
  let n = countCache.get(text);
  if (n === undefined) {
    n = countTokens(text);
    if (countCache.size < 10_000) countCache.set(text, n);
  }
  return n;
}

/**
 * Plug-in variants: agentbalance's query-conditioned backbone assignment (the matching MIP) inside
 * another method's topology; the topology itself is left as it is. The re-assignment replaces the
 * method's own backbones only when it is predicted more accurate (by at least the portfolio's tie
 * tolerance) with no more risk of breaking a budget and no agent on a less able backbone
 * (core/designer/plugin.ts `pluginImproves`, `noAgentWeaker`): a plug-in that cannot show a gain
 * changes nothing.
 */
export function designerAssigner(d: LoadedDesigner, hyper: Partial<PortfolioHyper> = {}): (spec: MasSpec, ctx: MethodContext) => MasSpec {
  return (spec, ctx) => {
    const rolePrompts = Object.fromEntries([...ctx.roles, ctx.decisionRole].map((r) => [r.id, r.prompt]));
    const reassigned = assignBackbones({
      spec,
      query: ctx.task.question,
      domain: ctx.task.domain,
      budgets: ctx.budgets,
      profile: d.profile,
      rolePrompts,
      solver: d.solver,
      hyper: d.designer.hyper,
    });
    const req = scoreRequest(d, ctx, predictDifficulty(d.profile.difficultyRegressor, ctx.task.question, ctx.task.domain), hyper);
    const tol = hyper.tieTolerance ?? DEFAULT_PORTFOLIO.tieTolerance;
    const before = scoreSpec(spec, rolePrompts, req);
    const after = scoreSpec(reassigned.spec, rolePrompts, req);
    return pluginImproves(before, after, tol) && noAgentWeaker(spec, reassigned.spec, d.profile, ctx.task.domain) ? reassigned.spec : spec;
  };
}
