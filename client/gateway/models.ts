/**
 * What a request's `model` means: a backbone of the pool (one call), or an agentbalance design
 * (`agentbalance`, `agentbalance/<domain>`, `agentbalance/<benchmark>`) for which the trained
 * designer builds the MAS for this query and these budgets.
 */
import { BenchmarkIdSchema, DomainSchema, type BenchmarkId } from '../../core/domain';
import type { Budgets, RunMasInput, SimulationOptions } from '../../core/mas';
import type { PoolFile } from '../../core/pool-file';
import type { LoadedDesigner } from '../../activities/designer-service';
import { DOMAIN_BENCHMARK, designWith, loadDesigner } from '../design';
import { messageText, type ChatRequest } from './schemas';

const DESIGN_MODEL = 'agentbalance';
const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

export type ResolvedModel = { kind: 'backbone'; id: string; backbone: string } | { kind: 'design'; id: string; benchmark: BenchmarkId };

export interface ModelEntry {
  id: string;
  owned_by: string;
}

/** Loads (training on first use) the designer of a benchmark. */
export type DesignerLoader = (pool: PoolFile, benchmark: BenchmarkId) => Promise<LoadedDesigner>;

const defaultDesignerLoader: DesignerLoader = (pool, benchmark) => loadDesigner(pool, benchmark);

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
    const designer = await this.designer(m.benchmark);
    return designWith({ designer, pool: this.pool, benchmark: m.benchmark, query, budgets, simulation }).input;
  }
}
