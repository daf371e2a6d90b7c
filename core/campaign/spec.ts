/**
 * A campaign (issue #6): every method × every budget of a log-spaced grid × every query of a
 * benchmark split, each run once and scored by the benchmark's grader. This module holds the spec
 * schema, budget grids and the deterministic list of run keys the workflow executes; it is pure.
 */
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../designer/hash';
import { BenchmarkIdSchema } from '../domain';
import type { Budgets } from '../mas';
import { SimulationOptionsSchema } from '../mas';
import { isMethodId, parseMethodList, SINGLE_PREFIX, type MethodId } from '../methods';
import type { Backbone } from '../pool';

export const BudgetKindSchema = z.enum(['cost', 'latency']);
export type BudgetKind = z.infer<typeof BudgetKindSchema>;

const positiveFinite = z.number().finite().positive();

/** Significant digits budgets of a generated grid are rounded to (readable, stable ids). */
const GRID_DIGITS = 4;

function roundSig(x: number, digits = GRID_DIGITS): number {
  return Number(x.toPrecision(digits));
}

/**
 * n log-spaced values from min to max inclusive, rounded to GRID_DIGITS significant digits
 * (n = 1 gives [min]). Throws on non-positive bounds, max < min or n < 1.
 */
export function logSpaced(min: number, max: number, n: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max))
    throw new Error(`logSpaced: bounds must be positive and finite (got ${min}, ${max})`);
  if (max < min) throw new Error(`logSpaced: max ${max} < min ${min}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`logSpaced: n must be a positive integer (got ${n})`);
  if (n === 1) return [roundSig(min)];
  const lo = Math.log(min);
  const step = (Math.log(max) - lo) / (n - 1);
  const out = Array.from({ length: n }, (_, i) => roundSig(i === n - 1 ? max : Math.exp(lo + i * step)));
  return [...new Set(out)];
}

/** A budget grid: explicit values, or `{ min, max, n }` expanded with `logSpaced`. Sorted, deduplicated. */
const BudgetGridSchema = z
  .union([
    z.array(positiveFinite),
    z.object({ min: positiveFinite, max: positiveFinite, n: z.number().int().min(1).max(100) }).strict(),
  ])
  .transform((g, ctx) => {
    if (Array.isArray(g)) return [...new Set(g)].sort((a, b) => a - b);
    if (g.max < g.min) {
      ctx.addIssue({ code: 'custom', message: `max ${g.max} < min ${g.min}` });
      return z.NEVER;
    }
    return logSpaced(g.min, g.max, g.n);
  });

const MethodIdSchema = z
  .string()
  .trim()
  .refine((s) => s === `${SINGLE_PREFIX}*` || isMethodId(s), {
    message: 'unknown method id (see core/methods METHOD_IDS; single:<backbone> or single:*)',
  });

export const CampaignSpecSchema = z
  .object({
    /** Optional human label; the campaign id is the lead's (or `campaignIdFor`). */
    name: z.string().min(1).optional(),
    benchmark: BenchmarkIdSchema,
    /** Local benchmark file; absent for built-in samples. */
    datasetPath: z.string().min(1).optional(),
    /** Skip malformed dataset records (counted on stderr) instead of refusing the dataset. */
    skipBadRecords: z.boolean().optional(),
    /** Use only the first `limit` queries of the split (after the split's own deterministic order). */
    limit: z.number().int().positive().optional(),
    /** Split id (core/splits.ts); the test split by default. */
    split: z.string().min(1).default('test'),
    /** Seeds every random choice of the campaign (methods, bootstrap, the simulated pool's default seed). */
    seed: z
      .union([z.string().min(1), z.number().int()])
      .transform(String)
      .default('0'),
    /** Built-in pool name (e.g. `sim-14`) or a pool-file path. */
    pool: z.string().min(1).default('sim-14'),
    /** Method ids; `single:*` stands for every backbone of the pool (expand with `resolveMethods`). */
    methods: z.array(MethodIdSchema).min(1),
    /** Per-query cost budgets in USD (latency unlimited on this axis). */
    costBudgets: BudgetGridSchema.default([]),
    /** Per-query latency budgets in seconds (cost unlimited on this axis). */
    latencyBudgets: BudgetGridSchema.default([]),
    /** Runs in flight at once (a child running a batch of `runsPerChild` runs holds one slot per run). */
    concurrency: z.number().int().positive().max(1024).default(4),
    /**
     * Runs per child workflow, run one after another (default: 16 when runs do not wait in real
     * time, the simulated pool at time factor 0; otherwise 1). See `runsPerChild`.
     */
    runsPerChild: z.number().int().positive().max(64).optional(),
    /** Options of the simulated pool (ignored by real providers). */
    simulation: SimulationOptionsSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.costBudgets.length === 0 && s.latencyBudgets.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['costBudgets'],
        message: 'give at least one cost or latency budget (costBudgets and latencyBudgets are both empty)',
      });
    }
  });
export type CampaignSpec = z.infer<typeof CampaignSpecSchema>;
export type CampaignSpecInput = z.input<typeof CampaignSpecSchema>;

export function parseCampaignSpec(input: unknown): CampaignSpec {
  return CampaignSpecSchema.parse(input);
}

/** The spec's methods with `single:*` expanded against the pool and every id checked (core/methods `parseMethodList`). */
export function resolveMethods(spec: Pick<CampaignSpec, 'methods'>, backbones: readonly Pick<Backbone, 'id'>[]): MethodId[] {
  return parseMethodList(spec.methods, backbones);
}

/** One run of a campaign: one method, one budget on one axis, one query. */
export interface RunKey {
  method: string;
  budgetKind: BudgetKind;
  budget: number;
  taskId: string;
  /** Stable id: `method|kind|budget|taskId` (budget as JavaScript prints it). */
  runKeyId: string;
}

/**
 * Stable id of a run key. Method ids and budgets cannot contain `|`, so the first three fields are
 * unambiguous and the task id is the rest.
 */
export function runKeyId(k: Pick<RunKey, 'method' | 'budgetKind' | 'budget' | 'taskId'>): string {
  return `${k.method}|${k.budgetKind}|${String(k.budget)}|${k.taskId}`;
}

export function parseRunKeyId(id: string): Omit<RunKey, 'runKeyId'> {
  const m = /^([^|]+)\|(cost|latency)\|([^|]+)\|(.+)$/s.exec(id);
  if (!m) throw new Error(`not a run key id: ${id}`);
  const budget = Number(m[3]);
  if (!(budget > 0)) throw new Error(`not a run key id (budget): ${id}`);
  return { method: m[1]!, budgetKind: m[2] as BudgetKind, budget, taskId: m[4]! };
}

/** The budgets a run runs under: the axis's budget, the other one unlimited. */
export function budgetsOf(k: Pick<RunKey, 'budgetKind' | 'budget'>): Budgets {
  return k.budgetKind === 'cost' ? { maxCostUsd: k.budget } : { maxLatencyS: k.budget };
}

/**
 * Every run of the campaign in a deterministic order: methods in spec order, the cost axis then the
 * latency axis, budgets ascending, tasks in the given order. Task ids must be unique; methods must
 * be resolved (`single:*` expanded: pass `backbones`, or call `resolveMethods` first).
 */
export function runKeys(
  spec: Pick<CampaignSpec, 'methods' | 'costBudgets' | 'latencyBudgets'>,
  taskIds: readonly string[],
  backbones?: readonly Pick<Backbone, 'id'>[],
): RunKey[] {
  const dup = taskIds.find((t, i) => taskIds.indexOf(t) !== i);
  if (dup !== undefined) throw new Error(`runKeys: duplicate task id "${dup}"`);
  const methods: string[] = backbones ? resolveMethods(spec, backbones) : [...new Set(spec.methods)];
  for (const m of methods) {
    if (m === `${SINGLE_PREFIX}*`)
      throw new Error('runKeys: expand single:* first (pass the pool backbones or call resolveMethods)');
    if (!isMethodId(m)) throw new Error(`runKeys: unknown method "${m}"`);
  }
  const grids: [BudgetKind, number[]][] = [
    ['cost', [...new Set(spec.costBudgets)].sort((a, b) => a - b)],
    ['latency', [...new Set(spec.latencyBudgets)].sort((a, b) => a - b)],
  ];
  const out: RunKey[] = [];
  for (const method of methods) {
    for (const [budgetKind, grid] of grids) {
      for (const budget of grid) {
        for (const taskId of taskIds)
          out.push({ method, budgetKind, budget, taskId, runKeyId: runKeyId({ method, budgetKind, budget, taskId }) });
      }
    }
  }
  return out;
}

/** Fingerprint of the query set a campaign ran on: SHA-256 (first 16 hex) of the sorted ids. */
export function splitFingerprint(taskIds: readonly string[]): string {
  return sha256Hex([...taskIds].sort().join('\n')).slice(0, 16);
}

/** A deterministic campaign id from its spec and query set: `c-` + 12 hex. */
export function campaignIdFor(spec: CampaignSpec, taskIds: readonly string[]): string {
  return `c-${sha256Hex(canonicalJson({ spec, tasks: splitFingerprint(taskIds) })).slice(0, 12)}`;
}

/** What a campaign records about itself (results store `saveCampaign`), written by the campaign workflow/CLI. */
export const CampaignMetaSchema = z
  .object({
    id: z.string().min(1),
    spec: CampaignSpecSchema,
    /** Methods after `single:*` expansion. */
    methods: z.array(z.string()),
    pool: z.object({ name: z.string(), simulated: z.boolean(), priceTableVersion: z.string() }).strict(),
    taskIds: z.array(z.string()),
    splitFingerprint: z.string(),
    /** Git commit (or package version) of the code that ran it; the caller computes it (core never calls git). */
    codeVersion: z.string().default('unknown'),
    /** ISO timestamps, supplied by the caller. */
    createdAt: z.string(),
    finishedAt: z.string().optional(),
    status: z.enum(['running', 'completed', 'failed', 'cancelled']).default('running'),
    /** Versions of other artifacts (designer, pool profile), free-form. */
    artifacts: z.record(z.string(), z.string()).default({}),
  })
  .strict();
export type CampaignMeta = z.infer<typeof CampaignMetaSchema>;

/**
 * Runs per child workflow of a campaign (issue #11): batching pays a child's fixed Temporal cost
 * (its start, first and last workflow tasks, visibility records, three events in the parent) once
 * per batch. A batch runs its runs one after another, so it only suits runs that do not wait in
 * real time (the simulated pool at time factor 0: milliseconds of CPU each); runs that wait (real
 * providers, a time factor above 0) keep one child each. A batch holds one slot of the campaign's
 * concurrency per run in it until it ends, and 16 runs bound its history (about 200 events).
 */
export function runsPerChild(spec: Pick<CampaignSpec, 'runsPerChild'>, waitsInRealTime: boolean): number {
  return spec.runsPerChild ?? (waitsInRealTime ? 1 : RUNS_PER_BATCH);
}
export const RUNS_PER_BATCH = 16;
