/**
 * What a request's `model` means: a backbone of the pool (one call), or an agentbalance design
 * (`agentbalance`, `agentbalance/<domain>`, `agentbalance/<benchmark>`) for which the trained
 * designer builds the MAS for this query and these budgets.
 */
import { BENCHMARK_DOMAIN, BenchmarkIdSchema, DomainSchema, type BenchmarkId, type Domain } from '../../core/domain';
import type { Budgets, RunMasInput, SimulationOptions } from '../../core/mas';
import type { PoolFile } from '../../core/pool-file';
import type { Task } from '../../core/task';
import { decisionRole, rolesFor } from '../../core/roles';
import { designerPlanner, ensureDesigner, type LoadedDesigner } from '../../activities/designer-service';
import { loadSplits } from '../../activities/datasets';
import { buildRunInput } from '../run-input';
import { messageText, type ChatRequest } from './schemas';

export const DESIGN_MODEL = 'agentbalance';
/** The benchmark whose designer serves `agentbalance/<domain>`: the built-in samples need no data. */
const DOMAIN_BENCHMARK: Record<Domain, BenchmarkId> = { math: 'sample-math', knowledge: 'sample-mc', code: 'sample-code' };
const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

export type ResolvedModel = { kind: 'backbone'; id: string; backbone: string } | { kind: 'design'; id: string; benchmark: BenchmarkId };

export interface ModelEntry {
  id: string;
  owned_by: string;
}

/** Loads (training on first use) the designer of a benchmark. */
export type DesignerLoader = (pool: PoolFile, benchmark: BenchmarkId) => Promise<LoadedDesigner>;

export const defaultDesignerLoader: DesignerLoader = async (pool, benchmark) => {
  const { train } = await loadSplits(benchmark, undefined, '0');
  return ensureDesigner({ pool, benchmark, trainTasks: train, seed: '0' });
};

export class ModelCatalog {
  private readonly designers = new Map<BenchmarkId, Promise<LoadedDesigner>>();

  constructor(
    readonly pool: PoolFile,
    private readonly loadDesigner: DesignerLoader = defaultDesignerLoader,
  ) {}

  list(): ModelEntry[] {
    const designs = [DESIGN_MODEL, ...DomainSchema.options.map((d) => `${DESIGN_MODEL}/${d}`), ...BenchmarkIdSchema.options.map((b) => `${DESIGN_MODEL}/${b}`)];
    return [...designs.map((id) => ({ id, owned_by: 'agentbalance' })), ...this.pool.backbones.map((b) => ({ id: b.id, owned_by: this.pool.simulated ? 'simulated' : b.provider }))];
  }

  resolve(model: string): ResolvedModel | undefined {
    if (this.pool.backbones.some((b) => b.id === model)) return { kind: 'backbone', id: model, backbone: model };
    if (model === DESIGN_MODEL) return { kind: 'design', id: model, benchmark: DOMAIN_BENCHMARK.math };
    if (!model.startsWith(`${DESIGN_MODEL}/`)) return undefined;
    const rest = model.slice(DESIGN_MODEL.length + 1);
    const domain = DomainSchema.safeParse(rest);
    if (domain.success) return { kind: 'design', id: model, benchmark: DOMAIN_BENCHMARK[domain.data] };
    const bench = BenchmarkIdSchema.safeParse(rest);
    return bench.success ? { kind: 'design', id: model, benchmark: bench.data } : undefined;
  }

  /** The designer for a benchmark, loaded once per process (a failure is retried next time). */
  designer(benchmark: BenchmarkId): Promise<LoadedDesigner> {
    let p = this.designers.get(benchmark);
    if (!p) {
      p = this.loadDesigner(this.pool, benchmark);
      p.catch(() => this.designers.delete(benchmark));
      this.designers.set(benchmark, p);
    }
    return p;
  }

  /** The runMas input for this request. */
  async buildInput(m: ResolvedModel, req: ChatRequest, query: string, budgets: Budgets, simulation: SimulationOptions): Promise<RunMasInput> {
    if (m.kind === 'backbone') {
      // One call: the request's system messages are the agent's system prompt, the rest its query.
      const system = req.messages.filter((x) => x.role === 'system' || x.role === 'developer').map((x) => messageText(x.content)).join('\n\n');
      const backbone = this.pool.backbones.find((b) => b.id === m.backbone)!;
      return {
        query,
        spec: { agents: [{ id: 'assistant', role: 'assistant', backbone: m.backbone, systemPrompt: system || DEFAULT_SYSTEM_PROMPT }], edges: [], decision: 'assistant' },
        budgets,
        backbones: [backbone],
        rolePrompts: {},
        simulation,
      };
    }
    const loaded = await this.designer(m.benchmark);
    const domain = BENCHMARK_DOMAIN[m.benchmark];
    // The designer reads only the query text and domain; the answer key is a placeholder and is
    // never sent to the run (the run is not graded).
    const task: Task = { id: 'gateway/query', benchmark: m.benchmark, domain, question: query, answer: { kind: 'numeric', value: '0' } };
    const decision = decisionRole(domain, m.benchmark);
    const plan = designerPlanner(loaded)({
      task,
      budgets,
      backbones: this.pool.backbones,
      roles: rolesFor(domain, m.benchmark).map((r) => ({ id: r.id, prompt: r.prompt })),
      decisionRole: { id: decision.id, prompt: decision.prompt },
      seed: '0',
    });
    return buildRunInput({ pool: this.pool, spec: plan.spec, query, domain, benchmark: m.benchmark, budgets, simulation });
  }
}
