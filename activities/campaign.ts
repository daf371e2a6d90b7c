import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { LRUCache } from 'lru-cache';
import { UNKNOWN_CAMPAIGN_TYPE } from '../core/campaign/failures';
import { budgetsOf, parseRunKeyId, runsPerChild, resolveMethods, runKeys, splitFingerprint, type CampaignMeta, type CampaignSpec } from '../core/campaign/spec';
import type { RunMasInput, RunMasResult, MasSpec } from '../core/mas';
import { planMethod, planningSeedMethod, type MethodContext, type MethodPlan } from '../core/methods';
import type { PoolFile } from '../core/pool-file';
import type { Backbone } from '../core/pool';
import type { BenchmarkId } from '../core/domain';
import { CALIBRATION_PROXY } from '../core/sim/calibration';
import { decisionRole, rolesFor } from '../core/roles';
import type { Task } from '../core/task';
import { gradeSync } from '../core/graders';
import { countTokens } from '../core/tokens';
import { loadSplits } from './datasets';
import { loadPool } from './pool-loader';
import { openResultsStore, type ResultsStore, type RunError } from './results-store';
import { buildReport, renderReport, type Report } from './report';
import { PROJECT_ROOT, stateDir } from '../infra/paths';
import { initSeries, setCampaignGauges, type CampaignGaugeRow } from './metrics';
import { designerAssigner, designerPlanner, ensureDesigner } from './designer-service';
import { productEnv } from '../infra/env';

interface CampaignContext {
  meta: CampaignMeta;
  pool: PoolFile;
  tasks: Map<string, Task>;
  keys: string[];
  designer?: (ctx: MethodContext) => MethodPlan;
  pluginAssigner?: MethodContext['pluginAssigner'];
}

/** Loaded campaign contexts, per campaign; the least recently used are dropped (and reloaded on demand). */
const contexts = new LRUCache<string, Promise<CampaignContext>>({ max: 16 });
let storePromise: Promise<ResultsStore> | undefined;

/** The results store: SQLite in the state folder, or PostgreSQL when AGENTBALANCE_DATABASE_URL is set. */
export function resultsStore(): Promise<ResultsStore> {
  storePromise ??= openResultsStore({
    sqlitePath: path.join(stateDir(), 'results.sqlite'),
    ...(productEnv().AGENTBALANCE_DATABASE_URL ? { databaseUrl: productEnv().AGENTBALANCE_DATABASE_URL } : {}),
  });
  return storePromise;
}

function codeVersion(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The tasks of the campaign's split, in dataset order, limited. */
export async function campaignTasks(spec: CampaignSpec): Promise<{ all: Task[]; selected: Task[]; train: Task[] }> {
  const splits = await loadSplits(spec.benchmark, spec.datasetPath, spec.seed, { skipBad: spec.skipBadRecords === true });
  const chosen = spec.split === 'all' ? splits.all : spec.split === 'train' ? splits.train : spec.split === 'profile' ? splits.profile : splits.test;
  return { all: splits.all, selected: spec.limit ? chosen.slice(0, spec.limit) : chosen, train: splits.train };
}

async function loadContext(campaignId: string): Promise<CampaignContext> {
  const store = await resultsStore();
  const meta = await store.getCampaign(campaignId);
  if (!meta) throw ApplicationFailure.nonRetryable(`unknown campaign ${campaignId} (not in the results store ${store.location})`, UNKNOWN_CAMPAIGN_TYPE);
  const pool = loadPool(meta.spec.pool);
  const { all, train } = await campaignTasks(meta.spec);
  const wanted = new Set(meta.taskIds);
  const tasks = new Map(all.filter((t) => wanted.has(t.id)).map((t) => [t.id, t]));
  const keys = runKeys(meta.spec, meta.taskIds, pool.backbones).map((k) => k.runKeyId);
  const ctx: CampaignContext = { meta, pool, tasks, keys };
  if (meta.methods.some((m) => m === 'agentbalance' || m.startsWith('plugin-'))) {
    const designer = await ensureDesigner({ pool, benchmark: meta.spec.benchmark, trainTasks: train, seed: meta.spec.seed });
    ctx.designer = designerPlanner(designer);
    ctx.pluginAssigner = designerAssigner(designer);
  }
  return ctx;
}

function context(campaignId: string): Promise<CampaignContext> {
  let c = contexts.get(campaignId);
  if (!c) {
    c = loadContext(campaignId);
    contexts.set(campaignId, c);
    c.catch(() => contexts.delete(campaignId));
  }
  return c;
}

/** What prepareCampaign returns (@public: named in the package's declarations of the worker's activities). */
export interface PreparedCampaign {
  totalRuns: number;
  alreadyDone: number;
  alreadyCorrect: number;
  alreadyFailed: number;
  alreadySpentUsd: number;
  /** Runs per child workflow (absent in histories from before batching: one). */
  runsPerChild?: number;
}

/** Records the campaign (once) and counts what an earlier attempt already finished. */
async function prepareCampaign(campaignId: string, spec: CampaignSpec): Promise<PreparedCampaign> {
  const store = await resultsStore();
  // The campaign's series at 0 in this process (it books the runs when it is the only worker; a
  // pool that is not built in has none yet): activities/metrics.ts `initSeries`.
  const pool = loadPool(spec.pool);
  initSeries(pool.backbones, resolveMethods(spec, pool.backbones));
  if (!(await store.getCampaign(campaignId))) {
    const { selected } = await campaignTasks(spec);
    const taskIds = selected.map((t) => t.id);
    await store.saveCampaign({
      id: campaignId,
      spec,
      methods: [...resolveMethods(spec, pool.backbones)],
      pool: { name: pool.name, simulated: pool.simulated, priceTableVersion: pool.priceTableVersion },
      taskIds,
      splitFingerprint: splitFingerprint(taskIds),
      codeVersion: codeVersion(),
      createdAt: new Date().toISOString(),
      status: 'running',
      artifacts: {},
    });
  }
  // Loading the context trains the designer when a method needs one (heartbeating meanwhile).
  const beat = setInterval(() => Context.current().heartbeat('preparing'), 5000);
  try {
    const ctx = await context(campaignId);
    const totals = await store.campaignTotals(campaignId);
    return {
      totalRuns: ctx.keys.length,
      alreadyDone: totals.runs,
      alreadyCorrect: totals.correct,
      alreadyFailed: totals.failed,
      alreadySpentUsd: totals.costUsd,
      runsPerChild: runsPerChild(spec, !pool.simulated || (spec.simulation?.timeFactor ?? 0) > 0),
    };
  } finally {
    clearInterval(beat);
  }
}

/** Up to `n` runs from position `cursor` on that the store does not hold yet. */
async function nextPendingRuns(campaignId: string, cursor: number, n: number): Promise<{ index: number; runKeyId: string }[]> {
  const ctx = await context(campaignId);
  const store = await resultsStore();
  const out: { index: number; runKeyId: string }[] = [];
  // Looks keys up a window at a time, so the cost does not grow with the campaign's size.
  for (let from = cursor; from < ctx.keys.length && out.length < n; from += 4 * n) {
    const window = ctx.keys.slice(from, from + 4 * n);
    const done = await store.completedRunKeys(campaignId, window);
    window.forEach((k, j) => {
      if (out.length < n && !done.has(k)) out.push({ index: from + j, runKeyId: k });
    });
  }
  return out;
}

export interface PlannedRun {
  input: RunMasInput;
  method: string;
  note?: string;
  /** FrugalGPT-style cascade: run stages in order until two samples agree. */
  cascade?: { stages: RunMasInput[] };
}

/** Replicates a single-agent stage `k` times in parallel; the last copy is the decision agent. */
function sampled(stage: MasSpec, k: number): MasSpec {
  const base = stage.agents.find((a) => a.id === stage.decision)!;
  const agents = Array.from({ length: k }, (_, i) => ({ ...base, id: `${base.id}-sample${i + 1}` }));
  return { agents, edges: [], decision: agents[k - 1]!.id };
}

/**
 * A backbone as a run needs it (issue #11, Temporal footprint): every run's input is stored in its
 * history, so the pool file's provenance (sources, notes, other benchmarks' cited scores) stays
 * out; the simulated pool reads only this benchmark's cited accuracy (or its proxy's).
 */
function leanBackbone(b: Backbone, benchmark: BenchmarkId): Backbone {
  const key = CALIBRATION_PROXY[benchmark] ?? benchmark;
  const cited = b.citedAccuracy?.[key];
  const { sources: _sources, citedAccuracy: _cited, ...rest } = b;
  void _sources;
  void _cited;
  return { ...rest, ...(cited ? { citedAccuracy: { [key]: { value: cited.value, derived: cited.derived } } } : {}) };
}

/** Plans one run: the method's MAS for this query and budget, resolved into a runMas input. */
export async function planRun(campaignId: string, runKeyId: string): Promise<PlannedRun> {
  const ctx = await context(campaignId);
  const key = parseRunKeyId(runKeyId);
  const task = ctx.tasks.get(key.taskId);
  if (!task) throw new Error(`campaign ${campaignId}: unknown task ${key.taskId}`);
  const budgets = budgetsOf(key);
  const roles = rolesFor(task.domain, task.benchmark);
  const decision = decisionRole(task.domain, task.benchmark);
  const mctx: MethodContext = {
    task,
    budgets,
    backbones: ctx.pool.backbones,
    roles: roles.map((r) => ({ id: r.id, prompt: r.prompt })),
    decisionRole: { id: decision.id, prompt: decision.prompt },
    // A plug-in plans with its base method's seed: same topology, only the backbones may differ.
    seed: `${ctx.meta.spec.seed}/${planningSeedMethod(key.method)}`,
    // The baselines count prompt tokens with the tokenizer, as the designer does (core/estimate.ts).
    countTokens,
    ...(ctx.designer ? { designer: ctx.designer } : {}),
    ...(ctx.pluginAssigner ? { pluginAssigner: ctx.pluginAssigner } : {}),
  };
  const plan = planMethod(key.method, mctx);
  const byId = new Map(ctx.pool.backbones.map((b) => [b.id, leanBackbone(b, task.benchmark)]));
  const simulation = {
    timeFactor: ctx.meta.spec.simulation?.timeFactor ?? 0,
    rate429: ctx.meta.spec.simulation?.rate429 ?? 0,
    rate5xx: ctx.meta.spec.simulation?.rate5xx ?? 0,
    // Common random numbers (#13): one seed for every run, so the simulated pool answers the same
    // request the same way whatever the method and budget.
    seed: ctx.meta.spec.seed,
  };
  const toInput = (spec: MasSpec): RunMasInput => ({
    query: task.question,
    task,
    spec,
    budgets,
    backbones: [...new Set(spec.agents.map((a) => a.backbone))].map((id) => byId.get(id)!),
    // Only the prompts this MAS uses: the plan is recorded in the run's history (issue #11).
    rolePrompts: Object.fromEntries(
      Object.entries(plan.rolePrompts).filter(([role]) => spec.agents.some((a) => a.role === role)),
    ),
    simulation,
    method: key.method,
  });
  return {
    input: toInput(plan.spec),
    method: key.method,
    ...(plan.note ? { note: plan.note } : {}),
    ...(plan.cascade ? { cascade: { stages: plan.cascade.stages.map((s, i) => toInput(sampled(s, plan.cascade!.samples[i] ?? 1))) } } : {}),
  };
}

/** The columns a stored run takes from its key. */
function runRowKey(campaignId: string, runKeyId: string) {
  const key = parseRunKeyId(runKeyId);
  return { campaignId, runKeyId, method: key.method, budgetKind: key.budgetKind, budget: key.budget, taskId: key.taskId };
}

/** Upserts a finished run by its key: a retried activity never double-counts. */
export async function recordRun(campaignId: string, runKeyId: string, result: RunMasResult): Promise<void> {
  await (await resultsStore()).upsertRun({
    ...runRowKey(campaignId, runKeyId),
    correct: result.correct === true,
    costUsd: result.costUsd,
    latencyS: result.latencyS,
    deadlineHit: result.deadlineHit,
    budgetExhausted: result.budgetExhausted,
    simulated: result.simulated,
    agents: result.agents,
    finishedAt: new Date().toISOString(),
  });
}

/** Stores a run that failed (error class and one-line message); it counts as wrong and `failed`. */
async function recordFailedRun(campaignId: string, runKeyId: string, error: RunError): Promise<void> {
  const store = await resultsStore();
  await store.upsertRun({
    ...runRowKey(campaignId, runKeyId),
    correct: false,
    costUsd: 0,
    latencyS: 0,
    deadlineHit: false,
    budgetExhausted: false,
    simulated: (await store.getCampaign(campaignId))?.pool.simulated ?? false,
    agents: [],
    finishedAt: new Date().toISOString(),
    error: { class: error.class.slice(0, 200) || 'Error', message: error.message.split('\n')[0]!.slice(0, 1000) },
  });
}

/**
 * Stores a failed run only where the store holds nothing for it yet (a batch child that failed
 * after storing some of its runs), and returns what the store then holds, for the progress counts.
 */
async function recordFailedRunIfAbsent(
  campaignId: string,
  runKeyId: string,
  error: RunError,
): Promise<{ correct: boolean; costUsd: number; failed: boolean }> {
  const store = await resultsStore();
  if ((await store.completedRunKeys(campaignId, [runKeyId])).has(runKeyId)) {
    // Already stored by the batch: counted as done, its figures come with the report.
    return { correct: false, costUsd: 0, failed: false };
  }
  await recordFailedRun(campaignId, runKeyId, error);
  return { correct: false, costUsd: 0, failed: true };
}

/** Cascade acceptance: every sample that answered gives the same graded answer (at least two). */
async function samplesAgree(task: Task | undefined, texts: string[]): Promise<boolean> {
  if (!task) return false;
  const answers = texts.filter((t) => t.trim()).map((t) => (task.answer.kind === 'code' ? t.trim() : (gradeSync(task, t)?.extracted ?? null)));
  if (answers.length < 2 || answers.some((a) => a === null)) return false;
  return answers.every((a) => a === answers[0]);
}

export interface FinalizeResult {
  reportDir: string;
  files: { markdown: string; json: string; charts: string[] };
  /** AUC per budget kind, per method. */
  auc: Record<string, Record<string, number>>;
  simulated: boolean;
}

function aucTable(report: Report): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const c of report.metrics.curves) (out[c.budgetKind] ??= {})[c.method] = c.auc;
  return out;
}

/** Accuracy (over all budgets of a kind) and AUC per method and budget kind, for the campaign gauges. */
function campaignGaugeRows(report: Report): CampaignGaugeRow[] {
  const rows = new Map<string, CampaignGaugeRow & { n: number; correct: number }>();
  for (const p of report.metrics.points) {
    const k = `${p.method}\u0000${p.budgetKind}`;
    const row = rows.get(k) ?? { method: p.method, budgetKind: p.budgetKind, accuracy: NaN, n: 0, correct: 0 };
    row.n += p.n;
    row.correct += p.correct;
    rows.set(k, row);
  }
  for (const c of report.metrics.curves) {
    const row = rows.get(`${c.method}\u0000${c.budgetKind}`);
    if (row) row.auc = c.auc;
  }
  return [...rows.values()].map(({ n, correct, ...r }) => ({ ...r, accuracy: n > 0 ? correct / n : NaN }));
}

/** Marks the campaign finished, renders its report from the store and sets the campaign gauges. */
async function finalizeCampaign(campaignId: string): Promise<FinalizeResult> {
  return renderCampaignReport(campaignId, true);
}

/** Renders a campaign's report from the store (@public: `agentbalance report`, loaded lazily by client/commands/campaign.ts). */
export async function renderCampaignReport(campaignId: string, markFinished = false): Promise<FinalizeResult> {
  const store = await resultsStore();
  const meta = await store.getCampaign(campaignId);
  if (!meta) throw new Error(`unknown campaign ${campaignId}`);
  if (markFinished && meta.status === 'running') {
    await store.saveCampaign({ ...meta, status: 'completed', finishedAt: new Date().toISOString() });
  }
  const report = await buildReport(store, campaignId, { codeVersion: meta.codeVersion });
  if (markFinished) setCampaignGauges(campaignId, meta.spec.benchmark, campaignGaugeRows(report));
  const reportDir = path.join(stateDir(), 'reports', campaignId);
  const files = await renderReport(report, reportDir);
  return {
    reportDir,
    files: { markdown: files.markdownPath, json: files.jsonPath, charts: files.charts.flatMap((c) => [c.svg, c.png]) },
    auc: aucTable(report),
    simulated: report.simulated,
  };
}

/** The campaign workflow's activities (the results store is the process's, `resultsStore()`). */
export function createCampaignActivities() {
  return { prepareCampaign, nextPendingRuns, planRun, recordRun, recordFailedRun, recordFailedRunIfAbsent, samplesAgree, finalizeCampaign };
}
