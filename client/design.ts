/**
 * The designer as a library call: the MAS agentbalance builds for one query and its budgets, as a
 * ready-to-run `runMas` input. Used by the typed client API (`design`) and the gateway.
 */
import { BENCHMARK_DOMAIN, type BenchmarkId, type Domain } from '../core/domain';
import type { Budgets, RunMasInput, SimulationOptions } from '../core/mas';
import type { PoolFile } from '../core/pool-file';
import type { Task } from '../core/task';
import type { PlanPrediction } from '../core/methods/types';
import { decisionRole, rolesFor } from '../core/roles';
import { designerPlanner, ensureDesigner, type LoadedDesigner } from '../activities/designer-service';
import { loadSplits } from '../activities/datasets';
import { buildRunInput } from './run-input';

/** The benchmark whose designer serves a domain: the built-in samples need no data. */
export const DOMAIN_BENCHMARK: Readonly<Record<Domain, BenchmarkId>> = { math: 'sample-math', knowledge: 'sample-mc', code: 'sample-code' };

export interface DesignedRun {
  input: RunMasInput;
  /** What the designer predicts for this MAS, and whether it fits the budgets. */
  predicted?: PlanPrediction;
  note: string;
}

/** Loads the saved designer of (pool, benchmark), training one on the benchmark's train split first if there is none. */
export async function loadDesigner(pool: PoolFile, benchmark: BenchmarkId, opts: { dataPath?: string; trainingSteps?: number } = {}): Promise<LoadedDesigner> {
  const { train } = await loadSplits(benchmark, opts.dataPath, '0');
  return ensureDesigner({ pool, benchmark, trainTasks: train, seed: '0', ...(opts.trainingSteps ? { options: { steps: opts.trainingSteps } } : {}) });
}

/**
 * The designer's plan for one task and its budgets (pure given the loaded designer). One call runs
 * one MAS spec, so the cascade designs (several runs) are left out of the choice.
 * @public loaded lazily by client/commands/designer.ts (`run --benchmark`).
 */
export function planOneMas(designer: LoadedDesigner, pool: PoolFile, task: Task, budgets: Budgets): ReturnType<ReturnType<typeof designerPlanner>> {
  const decision = decisionRole(task.domain, task.benchmark);
  return designerPlanner(designer, { cascades: false })({
    task,
    budgets,
    backbones: pool.backbones,
    roles: rolesFor(task.domain, task.benchmark).map((r) => ({ id: r.id, prompt: r.prompt })),
    decisionRole: { id: decision.id, prompt: decision.prompt },
    seed: '0',
  });
}

/** The designer's MAS for this query and budgets, as a ready-to-run input. */
export function designWith(args: { designer: LoadedDesigner; pool: PoolFile; benchmark: BenchmarkId; query: string; budgets: Budgets; simulation: SimulationOptions }): DesignedRun {
  const domain = BENCHMARK_DOMAIN[args.benchmark];
  // The designer reads only the query text and domain; the answer key is a placeholder that never
  // reaches the run (the run is not graded).
  const task: Task = { id: 'design/query', benchmark: args.benchmark, domain, question: args.query, answer: { kind: 'numeric', value: '0' } };
  const plan = planOneMas(args.designer, args.pool, task, args.budgets);
  const input = buildRunInput({ pool: args.pool, spec: plan.spec, query: args.query, domain, benchmark: args.benchmark, budgets: args.budgets, simulation: args.simulation });
  return { input, note: plan.note ?? 'agentbalance designer', ...(plan.predicted ? { predicted: plan.predicted } : {}) };
}
