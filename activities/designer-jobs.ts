import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BenchmarkId } from '../core/domain';
import { parsePoolProfile, profileFromPoolFile, type PoolProfile } from '../core/designer/pool-profile';
import type { RunMasInput, RunMasResult } from '../core/mas';
import type { PoolFile } from '../core/pool-file';
import { DECISION_ROLE_ID, decisionRole } from '../core/roles';
import { DIFFICULTY_PRIOR } from '../core/sim-calibration';
import { DEFAULT_SPLIT_FRACTIONS, splitIds } from '../core/splits';
import type { Task } from '../core/task';
import { stateDir } from '../infra/paths';
import { loadBenchmark } from './datasets';
import { ensureDesigner } from './designer-service';
import { loadPool } from './pool-loader';
import { fitPoolProfile, type ProfilingObservation, type ProfilingReport } from './profiling';

export interface DesignerJobArgs {
  pool: string;
  benchmark: BenchmarkId;
  datasetPath?: string;
  seed: string;
  /** Profiling: queries of the profile split per backbone. */
  limit?: number;
  /** Training steps of the designer. */
  steps?: number;
}

async function splitTasks(args: DesignerJobArgs): Promise<{ profile: Task[]; train: Task[] }> {
  const { tasks } = await loadBenchmark(args.benchmark, args.datasetPath);
  const split = splitIds(tasks.map((t) => t.id), args.seed, DEFAULT_SPLIT_FRACTIONS);
  const pick = (ids: readonly string[]) => {
    const set = new Set(ids);
    return tasks.filter((t) => set.has(t.id));
  };
  return { profile: pick(split.profile), train: pick(split.train) };
}

export function profileFile(pool: PoolFile, benchmark: BenchmarkId): string {
  return path.join(stateDir(), 'profiles', `${pool.name}-${benchmark}.json`);
}

/**
 * The pool profile the designer uses: the one fitted by `agentbalance profile` when it exists,
 * else the pool file's own profile with the benchmark's prior difficulty (derived from the public
 * scores the pool cites).
 */
export function currentProfile(pool: PoolFile, benchmark: BenchmarkId): PoolProfile {
  const file = profileFile(pool, benchmark);
  if (existsSync(file)) return parsePoolProfile(JSON.parse(readFileSync(file, 'utf8')));
  return profileFromPoolFile(pool.backbones, { simulated: pool.simulated, difficultyPrior: DIFFICULTY_PRIOR[benchmark].mu });
}

/** Every (backbone, profile-split query) the profiling workflow runs, as single-agent runMas inputs. */
export async function planProfiling(args: DesignerJobArgs): Promise<{ key: string; input: RunMasInput }[]> {
  const pool = loadPool(args.pool);
  const { profile } = await splitTasks(args);
  const tasks = profile.slice(0, args.limit ?? 40);
  const out: { key: string; input: RunMasInput }[] = [];
  for (const b of pool.backbones) {
    for (const task of tasks) {
      const decision = decisionRole(task.domain, task.benchmark);
      out.push({
        key: `${b.id}|${task.id}`,
        input: {
          query: task.question,
          task,
          spec: { agents: [{ id: 'solo', role: DECISION_ROLE_ID, backbone: b.id }], edges: [], decision: 'solo' },
          backbones: [b],
          rolePrompts: { [DECISION_ROLE_ID]: decision.prompt },
          simulation: { timeFactor: 0, rate429: 0, rate5xx: 0, seed: `profile-${args.seed}` },
        },
      });
    }
  }
  return out;
}

export interface ProfileObservationLite {
  key: string;
  correct: boolean;
  inputTokens: number;
  outputTokens: number;
  latencyS: number;
}

export function observationOf(key: string, r: RunMasResult): ProfileObservationLite {
  const a = r.agents[0]!;
  return { key, correct: r.correct === true, inputTokens: a.inputTokens, outputTokens: a.outputTokens, latencyS: a.latencyS };
}

/** Fits latency models, IRT abilities/difficulties and the difficulty regressor; saves the profile. */
export async function fitAndSaveProfile(args: DesignerJobArgs, obs: ProfileObservationLite[]): Promise<{ file: string; report: ProfilingReport; profileHash: string }> {
  const pool = loadPool(args.pool);
  const { profile } = await splitTasks(args);
  const byId = new Map(profile.map((t) => [t.id, t]));
  const observations: ProfilingObservation[] = obs.map((o) => {
    const [backbone, item] = [o.key.slice(0, o.key.indexOf('|')), o.key.slice(o.key.indexOf('|') + 1)];
    const task = byId.get(item)!;
    return { backbone, item, domain: task.domain, query: task.question, correct: o.correct, inputTokens: o.inputTokens, outputTokens: o.outputTokens, latencyS: o.latencyS };
  });
  const { profile: fitted, report } = fitPoolProfile({ backbones: pool.backbones, observations });
  const file = profileFile(pool, args.benchmark);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(fitted, null, 1));
  renameSync(`${file}.tmp`, file);
  return { file, report, profileHash: fitted.profileHash };
}

/** Trains (or loads) the designer for (pool, benchmark), heartbeating with the step. */
export async function trainDesignerJob(args: DesignerJobArgs): Promise<{ file: string; profileHash: string; steps: number; finalReward: number | null }> {
  const pool = loadPool(args.pool);
  const { train } = await splitTasks(args);
  const loaded = await ensureDesigner({
    pool,
    benchmark: args.benchmark,
    trainTasks: train,
    seed: args.seed,
    profile: currentProfile(pool, args.benchmark),
    retrain: true,
    ...(args.steps ? { options: { steps: args.steps } } : {}),
    onProgress: (step, steps) => Context.current().heartbeat({ step, steps }),
  });
  const curve = loaded.designer.curve;
  const last = curve.at(-1) as { reward?: number } | undefined;
  return { file: loaded.file, profileHash: loaded.profile.profileHash, steps: curve.length, finalReward: last?.reward ?? null };
}
