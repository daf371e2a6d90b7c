import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { BenchmarkId } from '../core/domain';
import type { RunMasInput, RunMasResult } from '../core/mas';
import { DECISION_ROLE_ID, decisionRole } from '../core/roles';
import { loadSplits } from './datasets';
import { ensureDesigner, profileFile } from './designer-service';
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
  /** Skip malformed dataset records instead of failing (`--skip-bad-records`). */
  skipBadRecords?: boolean;
}

const loadOpts = (args: DesignerJobArgs) => ({ skipBad: args.skipBadRecords ?? false });

/** Every (backbone, profile-split query) the profiling workflow runs, as single-agent runMas inputs. */
export async function planProfiling(args: DesignerJobArgs): Promise<{ key: string; input: RunMasInput }[]> {
  const pool = loadPool(args.pool);
  const { profile } = await loadSplits(args.benchmark, args.datasetPath, args.seed, loadOpts(args));
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
  const { profile } = await loadSplits(args.benchmark, args.datasetPath, args.seed, loadOpts(args));
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
