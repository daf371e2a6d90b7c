import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import type { BenchmarkId } from '../core/domain';
import type { RunMasInput } from '../core/mas';
import { DECISION_ROLE_ID, decisionRole } from '../core/roles';
import { loadSplits } from './datasets';
import { profileFile } from './designer-service';
import { loadPool } from './pool-loader';
import { resultsStore } from './campaign';
import type { Task } from '../core/task';
import type { PoolFile } from '../core/pool-file';
import { DEFAULT_PROFILE_CONCURRENCY, type Backbone } from '../core/pool';
import { DIFFICULTY_PRIOR } from '../core/sim/calibration';
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

/** Profile-split queries per backbone when the job does not say. */
const PROFILE_QUERIES = 40;

export const loadOpts = (args: DesignerJobArgs) => ({ skipBad: args.skipBadRecords ?? false });

/** One backbone alone on one query, as the decision agent: what profiling observes. */
function profileCallInput(b: Backbone, task: Task, seed: string): RunMasInput {
  const decision = decisionRole(task.domain, task.benchmark);
  return {
    query: task.question,
    task,
    spec: { agents: [{ id: 'solo', role: DECISION_ROLE_ID, backbone: b.id }], edges: [], decision: 'solo' },
    backbones: [b],
    rolePrompts: { [DECISION_ROLE_ID]: decision.prompt },
    simulation: { timeFactor: 0, rate429: 0, rate5xx: 0, seed: `profile-${seed}` },
  };
}

/** Every (backbone, profile-split query) the profiling workflow runs, as single-agent runMas inputs. */
async function planProfiling(args: DesignerJobArgs): Promise<{ key: string; input: RunMasInput }[]> {
  const { pool, tasks } = await profileContext(args);
  const out: { key: string; input: RunMasInput }[] = [];
  for (const b of pool.backbones) {
    for (const task of tasks) {
      out.push({ key: `${b.id}|${task.id}`, input: profileCallInput(b, task, args.seed) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Profiling at any size (issue #11): the workflow plans positions, not payloads. Position i is
// backbone i % B on profile-split query floor(i / B) (backbones interleaved, so all progress
// together); each child builds its own runMas input by position and stores its observation in the
// results store, keyed `backbone|item`; the fit reads them from there. Nothing that crosses
// Temporal grows with the number of queries.

export interface ProfileJobArgs extends DesignerJobArgs {
  /** Deterministic id of the job (also its workflow id and the observations' key in the store). */
  profileId: string;
  /** Child runs in flight overall (default 16). */
  concurrency?: number;
  /** Calls in flight per backbone; overrides the pool file's maxConcurrency and the local default of 1. */
  perBackbone?: number;
}

export interface ProfilePlan {
  total: number;
  /** Calls already stored by an earlier attempt. */
  alreadyDone: number;
  backbones: string[];
  /** Calls in flight allowed per backbone (same order as `backbones`). */
  limits: number[];
}

/** True for an endpoint served on this machine (its latency would include queueing behind our own calls). */
function isLocalEndpoint(baseUrl: string | undefined): boolean {
  if (!baseUrl) return false;
  try {
    const h = new URL(baseUrl).hostname;
    return h === 'localhost' || h === '::1' || h === '[::1]' || h.startsWith('127.') || h === '0.0.0.0';
  } catch {
    return false;
  }
}

interface ProfileContext {
  pool: PoolFile;
  tasks: Task[];
}
/** Loaded profiling contexts, per job; the least recently used are dropped (and reloaded on demand). */
const profileContexts = new LRUCache<string, Promise<ProfileContext>>({ max: 16 });

function profileContext(args: DesignerJobArgs): Promise<ProfileContext> {
  const k = JSON.stringify([args.pool, args.benchmark, args.datasetPath ?? null, args.seed, args.limit ?? PROFILE_QUERIES, args.skipBadRecords ?? false]);
  let c = profileContexts.get(k);
  if (!c) {
    c = (async () => {
      const pool = loadPool(args.pool);
      const { profile } = await loadSplits(args.benchmark, args.datasetPath, args.seed, loadOpts(args));
      return { pool, tasks: profile.slice(0, args.limit ?? PROFILE_QUERIES) };
    })();
    profileContexts.set(k, c);
    c.catch(() => profileContexts.delete(k));
  }
  return c;
}

function keyAt(ctx: ProfileContext, index: number): { key: string; backbone: number; task: Task } {
  const nB = ctx.pool.backbones.length;
  const b = index % nB;
  const task = ctx.tasks[Math.floor(index / nB)];
  if (!task) throw new Error(`profiling: position ${index} is out of range`);
  return { key: `${ctx.pool.backbones[b]!.id}|${task.id}`, backbone: b, task };
}

async function planProfilingKeys(args: ProfileJobArgs): Promise<ProfilePlan> {
  const ctx = await profileContext(args);
  if (ctx.tasks.length === 0) throw new Error(`profiling: the profile split of ${args.benchmark} is empty`);
  const done = await (await resultsStore()).profileObservationKeys(args.profileId);
  const overall = args.concurrency ?? DEFAULT_PROFILE_CONCURRENCY;
  return {
    total: ctx.pool.backbones.length * ctx.tasks.length,
    alreadyDone: done.size,
    backbones: ctx.pool.backbones.map((b) => b.id),
    limits: ctx.pool.backbones.map((b) => Math.min(overall, args.perBackbone ?? b.maxConcurrency ?? (isLocalEndpoint(b.baseUrl) ? 1 : overall))),
  };
}

/** Up to `n` positions from `cursor` on whose observation is not stored yet. */
async function pendingProfileCalls(args: ProfileJobArgs, cursor: number, n: number): Promise<{ index: number; backbone: number }[]> {
  const ctx = await profileContext(args);
  const total = ctx.pool.backbones.length * ctx.tasks.length;
  const store = await resultsStore();
  const out: { index: number; backbone: number }[] = [];
  for (let from = cursor; from < total && out.length < n; from += 4 * n) {
    const window = Array.from({ length: Math.min(4 * n, total - from) }, (_, j) => keyAt(ctx, from + j));
    const done = await store.profileObservationKeys(args.profileId, window.map((w) => w.key));
    window.forEach((w, j) => {
      if (out.length < n && !done.has(w.key)) out.push({ index: from + j, backbone: w.backbone });
    });
  }
  return out;
}

/** The single-agent runMas input of one profiling position. */
async function planProfileCall(args: ProfileJobArgs, index: number): Promise<RunMasInput> {
  const ctx = await profileContext(args);
  const { backbone, task } = keyAt(ctx, index);
  return profileCallInput(ctx.pool.backbones[backbone]!, task, args.seed);
}

/** Stores one profiling call's outcome (upsert by key: a retry never counts twice). */
async function recordProfileCall(args: ProfileJobArgs, index: number, obs: Omit<ProfileObservationLite, 'key'>): Promise<void> {
  const ctx = await profileContext(args);
  await (await resultsStore()).upsertProfileObservation(args.profileId, { key: keyAt(ctx, index).key, ...obs });
}

/** Fits the profile from the stored observations (read here, never passed through Temporal). */
export async function fitStoredProfile(args: ProfileJobArgs): Promise<{ file: string; report: ProfilingReport; profileHash: string; observations: number }> {
  const obs = await (await resultsStore()).getProfileObservations(args.profileId);
  const res = await fitAndSaveProfile(args, obs);
  return { ...res, observations: obs.length };
}

export interface ProfileObservationLite {
  key: string;
  correct: boolean;
  inputTokens: number;
  outputTokens: number;
  latencyS: number;
}

/** Fits latency models, IRT abilities/difficulties and the difficulty regressor; saves the profile. */
async function fitAndSaveProfile(args: DesignerJobArgs, obs: ProfileObservationLite[]): Promise<{ file: string; report: ProfilingReport; profileHash: string }> {
  const pool = loadPool(args.pool);
  const { profile } = await loadSplits(args.benchmark, args.datasetPath, args.seed, loadOpts(args));
  const byId = new Map(profile.map((t) => [t.id, t]));
  const observations: ProfilingObservation[] = obs.map((o) => {
    const [backbone, item] = [o.key.slice(0, o.key.indexOf('|')), o.key.slice(o.key.indexOf('|') + 1)];
    const task = byId.get(item)!;
    // Every profiling call runs the backbone as the decision agent (profileCallInput).
    return { backbone, item, domain: task.domain, query: task.question, correct: o.correct, inputTokens: o.inputTokens, outputTokens: o.outputTokens, latencyS: o.latencyS, role: DECISION_ROLE_ID };
  });
  const { profile: fitted, report } = fitPoolProfile({
    backbones: pool.backbones,
    observations,
    // Item difficulties are anchored at the benchmark's prior mean, as the pool-file profile's are.
    options: { difficultyPrior: DIFFICULTY_PRIOR[args.benchmark].mu },
  });
  const file = profileFile(pool, args.benchmark);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(fitted, null, 1));
  renameSync(`${file}.tmp`, file);
  return { file, report, profileHash: fitted.profileHash };
}

/** The profiling workflows' activities (observations in the process's results store). */
export function createProfilingJobActivities() {
  return {
    planProfiling,
    planProfilingKeys,
    pendingProfileCalls,
    planProfileCall,
    recordProfileCall,
    fitStoredProfile,
    fitAndSaveProfile,
  };
}
