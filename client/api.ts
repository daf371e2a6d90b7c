/**
 * The typed client API (`import { design, runMas, campaign } from 'agentbalance'`): what the CLI
 * and the gateway use, for services that start agentbalance workflows themselves.
 */
import { LRUCache } from 'lru-cache';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MAIN_TASK_QUEUE } from '../core/queues';
import type { Budgets, RunMasInput, RunMasResult, SimulationOptions } from '../core/mas';
import { BENCHMARK_DOMAIN, type BenchmarkId, type Domain } from '../core/domain';
import { DEFAULT_POOL, type PoolFile } from '../core/pool-file';
import { campaignIdFor, CampaignSpecSchema, type CampaignSpec, type CampaignSpecInput } from '../core/campaign/spec';
import type { CampaignSummary } from '../workflows/campaign';
import { loadPool } from '../activities/pool-loader';
import { campaignTasks } from '../activities/campaign';
import { UserError } from './errors';
import { DOMAIN_BENCHMARK, designWith, loadDesigner, type DesignedRun } from './design';
import type { LoadedDesigner } from '../activities/designer-service';

export type { Budgets, MasSpec, MasAgent, RunMasInput, RunMasResult, AgentTrace, AgentStatus, SimulationOptions } from '../core/mas';
export type { CampaignSpec, CampaignSpecInput } from '../core/campaign/spec';
export type { CampaignSummary, CampaignProgress } from '../workflows/campaign';
export type { BenchmarkId, Domain } from '../core/domain';
export type { PoolFile } from '../core/pool-file';
export type { DesignedRun } from './design';
export { MAIN_TASK_QUEUE, llmTaskQueue } from '../core/queues';
export { UserError } from './errors';

export interface RunOptions {
  workflowId?: string;
  /**
   * Run on this task queue, with all of the run's activities on it too: the queue of a worker
   * set up with `agentbalance/worker`. Default: the product's own queues.
   */
  taskQueue?: string;
  eagerStart?: boolean;
}

/**
 * Starts one MAS as a `runMas` workflow and waits for its result. `eagerStart`: the client shares a
 * NativeConnection with an in-process worker, which then gets the first workflow task in the start
 * response instead of through a poll (#17); the server falls back to a normal start when no local
 * worker can take it.
 */
export async function runMas(client: Client, input: RunMasInput, opts: RunOptions = {}): Promise<RunMasResult> {
  const workflowId = opts.workflowId ?? `run-mas-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const args: RunMasInput =
    opts.taskQueue && !input.taskQueues ? { ...input, taskQueues: { main: opts.taskQueue, llm: opts.taskQueue } } : input;
  try {
    return await client.workflow.execute('runMas', { taskQueue: opts.taskQueue ?? MAIN_TASK_QUEUE, workflowId, args: [args], ...(opts.eagerStart ? { requestEagerStart: true } : {}) });
  } catch (err) {
    throw asUserError(err) ?? err;
  }
}

export interface DesignRequest {
  query: string;
  /** The designer to use: a benchmark's (its train split trains it on first use), else the domain's sample. */
  benchmark?: BenchmarkId;
  domain?: Domain;
  budgets?: Budgets;
  /** Pool name or file (default sim-14, simulated). */
  pool?: string;
  simulation?: Partial<SimulationOptions>;
  /** Training steps when no saved designer exists yet (default 150). */
  trainingSteps?: number;
  /** Benchmark data folder (default ../shared/datasets). */
  dataPath?: string;
}

/** Loaded designers per (pool, benchmark): a few at most, the least recently used dropped (reloaded from disk on demand). */
const designers = new LRUCache<string, Promise<LoadedDesigner>>({ max: 4 });

/** agentbalance's MAS for this query and budgets: a `runMas` input ready for `runMas`. Runs locally (no Temporal). */
export async function design(req: DesignRequest): Promise<DesignedRun> {
  const pool: PoolFile = loadPool(req.pool ?? DEFAULT_POOL);
  const benchmark = req.benchmark ?? DOMAIN_BENCHMARK[req.domain ?? 'math'];
  if (req.domain && BENCHMARK_DOMAIN[benchmark] !== req.domain) throw new UserError(`benchmark ${benchmark} is not in domain ${req.domain}`);
  const cacheKey = `${pool.name}\u0000${benchmark}`;
  let loaded = designers.get(cacheKey);
  if (!loaded) {
    loaded = loadDesigner(pool, benchmark, { ...(req.dataPath ? { dataPath: req.dataPath } : {}), ...(req.trainingSteps ? { trainingSteps: req.trainingSteps } : {}) });
    loaded.catch(() => designers.delete(cacheKey));
    designers.set(cacheKey, loaded);
  }
  const simulation: SimulationOptions = { timeFactor: 0, rate429: 0, rate5xx: 0, seed: '0', ...req.simulation };
  return designWith({ designer: await loaded, pool, benchmark, query: req.query, budgets: req.budgets ?? {}, simulation });
}

/**
 * Starts (or reattaches to) a budget campaign and waits for its summary. The campaign's runs use
 * the product's own task queues (`agentbalance`, `agentbalance-llm-<provider>`): run
 * `agentbalance worker` or `startAgentbalanceWorkers` from `agentbalance/worker` for them.
 */
export async function campaign(client: Client, specInput: CampaignSpecInput): Promise<{ campaignId: string; summary: CampaignSummary }> {
  const parsed = CampaignSpecSchema.safeParse(specInput);
  if (!parsed.success) throw new UserError(`campaign: ${parsed.error.issues[0]!.path.join('.') || 'spec'}: ${parsed.error.issues[0]!.message}`);
  const spec: CampaignSpec = parsed.data;
  const { selected } = await campaignTasks(spec);
  const campaignId = campaignIdFor(spec, selected.map((t) => t.id));
  try {
    await client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: campaignId, args: [{ campaignId, spec }] });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const summary = (await client.workflow.getHandle(campaignId).result()) as CampaignSummary;
  return { campaignId, summary };
}

/** Input errors raised inside a workflow come back as a plain one-line UserError. */
export function asUserError(err: unknown): UserError | undefined {
  if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === 'InvalidInput' || err.cause.type === 'InvalidMasSpec') return new UserError(err.cause.message);
  }
  return undefined;
}
