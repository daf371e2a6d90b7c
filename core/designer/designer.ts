import type { Domain } from '../domain';
import type { Budgets, MasSpec } from '../mas';
import { countTokens as realTokenCount } from '../tokens';
import type { Embedder } from './embed';
import { budgetFeatures, budgetRefs, nodeInput, nodeInputDim, profileFeatures, taskInput, taskInputDim } from './features';
import { buildMatchingProblem, type MatchingSolution, type MatchingSolver } from './matching';
import { predictDifficulty, type PoolProfile, type ProfiledBackbone } from '../profiling/pool-profile';
import {
  emptyAdjacency,
  standaloneCall,
  type AgentSlot,
  type DesignGraph,
  type MasPrediction,
  type PredictionContext,
  type TokenCounter,
} from './predict';
import { BAND_CENTER, difficultyBand, selectPool, type DifficultyBand, type SelectionResult } from './selection';
import { fallbackDecisionOnly, synthesize, type SynthesisAction } from './synthesis';
import {
  decodeTopology,
  initWeights,
  topologyForward,
  WEIGHT_NAMES,
  weightShapes,
  type TopologyForward,
  type TopologyWeights,
} from './topology';
import {
  DEFAULT_HYPER,
  TRAINED_DESIGNER_KIND,
  TRAINED_DESIGNER_VERSION,
  type BudgetScale,
  type DesignerHyper,
  type TrainedDesigner,
} from './trained-designer';
import type { EmbedderConfig } from './embed';

/**
 * designMas: the whole backbone-then-topology designer for one query, pure and synchronous
 * (docs/METHOD.md §2.5).
 *   1. b̂(q) → difficulty band → pool selection (Pareto front + k-medoids) for the domain/band;
 *   2. role-backbone matching MIP over the selected backbones (whole pool if that is infeasible);
 *   3. unified agent representation → gates and edge scores → decoded DAG;
 *   4. latency/cost-aware synthesis so predicted L̂ ≤ B_L and Ĉ ≤ B_C.
 * The MIP solver is injected (HiGHS from activities/matching-solver.ts): core stays I/O free.
 */

/** What the designer needs to know of a role (core/roles provides these). */
export interface RoleInfo {
  id: string;
  domain: Domain;
  /** Persona prompt (system prompt of the agent). */
  prompt: string;
}

export interface DesignRequest {
  query: string;
  domain: Domain;
  budgets: Budgets;
  designer: TrainedDesigner;
  profile: PoolProfile;
  /** The domain's roles in their fixed order (core/roles `rolesFor`); the decision agent is put last. */
  roles: readonly RoleInfo[];
  /** The decision role (core/roles `decisionRole`), or the id of one of `roles`. */
  decisionRole: RoleInfo | string;
  embedder: Embedder;
  solver: MatchingSolver;
  /** Real tokenizer by default (core/tokens.ts). */
  countTokens?: TokenCounter;
  /** Known IRT difficulty (e.g. a profiled item); default b̂(q) from the profile's regressor. */
  difficulty?: number;
  /** Restrict to these backbone ids. */
  allowBackbones?: readonly string[];
  /** Output length per role relative to the backbone's mean (e.g. the simulated pool's role factors). */
  roleOutputFactor?: Readonly<Record<string, number>>;
}

interface DesignPrediction {
  costUsd: number;
  latencyS: number;
  accuracy: number;
  difficulty: number;
  band: DifficultyBand;
}

export interface DesignResult {
  spec: MasSpec;
  predicted: DesignPrediction;
  /** False when even the decision agent alone fits no backbone: the minimal MAS is returned. */
  feasible: boolean;
  /** Stage outputs, for printing and debugging. */
  trace: {
    selection: SelectionResult;
    matching: MatchedRoles;
    gates: { role: string; p: number }[];
    synthesis: SynthesisAction[];
    /** The designer was trained on this profile (false: e.g. unseen backbones were added). */
    profileMatchesTraining: boolean;
  };
}

/** Everything before the topology policy; shared by inference and the training environment. */
export interface PreparedDesign {
  slots: AgentSlot[];
  slotRoles: RoleInfo[];
  ctx: PredictionContext;
  budgets: Budgets;
  scale: BudgetScale;
  pool: ProfiledBackbone[];
  selection: SelectionResult;
  matching: MatchedRoles;
  /** Matched slots active with their backbones, no edges. */
  base: DesignGraph;
  candidate: boolean[];
  nodeInputs: number[][];
  taskInput: number[];
}

/** The MIP's outcome: assignment indices into `candidates`, and the same as role → backbone pairs. */
type MatchedRoles = MatchingSolution & {
  scope: 'selected' | 'pool';
  candidates: string[];
  assigned: { role: string; backbone: string }[];
};

export function orderSlots(roles: readonly RoleInfo[], decisionRole: RoleInfo | string): RoleInfo[] {
  const id = typeof decisionRole === 'string' ? decisionRole : decisionRole.id;
  const dec = typeof decisionRole === 'string' ? roles.find((r) => r.id === id) : decisionRole;
  if (!dec) throw new Error(`decision role ${id} not among the roles`);
  const workers = roles.filter((r) => r.id !== id);
  if (new Set(workers.map((r) => r.id)).size !== workers.length) throw new Error('duplicate role ids');
  return [...workers, dec];
}

/**
 * Budget range in use for a domain when the designer does not carry one: from half the cheapest
 * (fastest) single decision call to twice a full chain of every role on the dearest (slowest)
 * backbone. Training samples budgets log-uniformly in it; campaigns can use it for their grids.
 */
export function defaultBudgetScale(
  pool: readonly ProfiledBackbone[],
  slots: readonly AgentSlot[],
  ctx: Pick<PredictionContext, 'domain' | 'queryTokens'>,
): BudgetScale {
  const dec = slots[slots.length - 1]!;
  const calls = pool.map((b) => standaloneCall(b, dec, ctx));
  const n = slots.length;
  return {
    costUsd: [0.5 * Math.min(...calls.map((c) => c.costUsd)), 2 * n * Math.max(...calls.map((c) => c.costUsd))],
    latencyS: [0.5 * Math.min(...calls.map((c) => c.latencyS)), 2 * n * Math.max(...calls.map((c) => c.latencyS))],
  };
}

export function prepareDesign(req: DesignRequest): PreparedDesign {
  const count = req.countTokens ?? realTokenCount;
  const hyper = req.designer.hyper;
  const allow = req.allowBackbones ? new Set(req.allowBackbones) : undefined;
  const pool = allow ? req.profile.backbones.filter((b) => allow.has(b.id)) : [...req.profile.backbones];
  if (pool.length === 0) throw new Error('designMas: no backbones allowed');
  const slotRoles = orderSlots(req.roles, req.decisionRole);
  const slots: AgentSlot[] = slotRoles.map((r, i) => ({
    role: r.id,
    roleId: r.id,
    systemTokens: count(r.prompt),
    isDecision: i === slotRoles.length - 1,
    ...(req.roleOutputFactor?.[r.id] !== undefined ? { outputFactor: req.roleOutputFactor[r.id] } : {}),
  }));
  const difficulty = req.difficulty ?? predictDifficulty(req.profile.difficultyRegressor, req.query, req.domain);
  const ctx: PredictionContext = {
    domain: req.domain,
    difficulty,
    queryTokens: count(req.query),
    peerSway: { min: hyper.peerSwayMin, max: hyper.peerSwayMax },
  };
  const scale = req.designer.budgetScale[req.domain] ?? defaultBudgetScale(pool, slots, ctx);
  const refs = budgetRefs(req.budgets, scale);

  const selection = selectPool(req.profile, {
    domain: req.domain,
    difficulty: BAND_CENTER[difficultyBand(difficulty)],
    k: hyper.selectionK,
    inputTokens: ctx.queryTokens + slots[slots.length - 1]!.systemTokens,
    ...(allow ? { allow } : {}),
  });
  const solve = (cands: readonly ProfiledBackbone[]): MatchingSolution =>
    req.solver(
      buildMatchingProblem({
        slots,
        ctx,
        candidates: cands,
        budgets: req.budgets,
        refs,
        workerUtility: hyper.workerUtility,
        lambdaC: hyper.matchLambdaC,
        lambdaL: hyper.matchLambdaL,
      }),
    );
  const selected = selection.chosen.map((id) => pool.find((b) => b.id === id)!);
  const matched = (cands: readonly ProfiledBackbone[], scope: MatchedRoles['scope']): MatchedRoles => {
    const sol = solve(cands);
    const assigned = sol.assignment.flatMap((m, r) => (m >= 0 ? [{ role: slots[r]!.role, backbone: cands[m]!.id }] : []));
    return { ...sol, scope, candidates: cands.map((b) => b.id), assigned };
  };
  let cands = selected;
  let matching = matched(selected, 'selected');
  if (matching.status !== 'optimal' && selected.length < pool.length) {
    cands = pool;
    matching = matched(pool, 'pool');
  }
  const n = slots.length;
  const candidate = matching.assignment.map((m) => m >= 0);
  const base: DesignGraph = {
    slots,
    active: [...candidate],
    backbone: matching.assignment.map((m) => (m >= 0 ? cands[m]! : null)),
    adj: emptyAdjacency(n),
  };
  const qEmb = req.embedder.embed(req.query);
  const bf = budgetFeatures(req.budgets, scale);
  const nodeInputs = slotRoles.map((r, v) => {
    const b = base.backbone[v];
    if (!b) return [];
    return nodeInput(req.embedder.embed(r.prompt), profileFeatures(b, slots[v]!, ctx, refs), qEmb, bf, v === n - 1);
  });
  return {
    slots,
    slotRoles,
    ctx,
    budgets: req.budgets,
    scale,
    pool,
    selection,
    matching,
    base,
    candidate,
    nodeInputs,
    taskInput: taskInput(qEmb, bf, difficulty),
  };
}

/** The policy weights, checked against the shapes the designer's dimensions imply. */
export function designerWeights(d: TrainedDesigner): TopologyWeights {
  const shapes = weightShapes(nodeInputDim(d.embedder.dim), taskInputDim(d.embedder.dim), d.hyper.hidden);
  for (const name of WEIGHT_NAMES) {
    const w = d.weights[name];
    if (!w || w.shape.join('x') !== shapes[name].join('x'))
      throw new Error(`designer weight ${name}: expected shape ${shapes[name].join('x')}`);
  }
  return d.weights as TopologyWeights;
}

export function runPolicy(d: TrainedDesigner, p: PreparedDesign): TopologyForward {
  return topologyForward(designerWeights(d), p.nodeInputs, p.taskInput, p.candidate, d.hyper.rounds);
}

function graphToSpec(g: DesignGraph): MasSpec {
  const n = g.slots.length;
  const agents = g.slots
    .map((s, v) => ({ s, v }))
    .filter(({ v }) => g.active[v] && g.backbone[v])
    .map(({ s, v }) => ({ id: s.role, role: s.role, backbone: g.backbone[v]!.id }));
  const edges: [string, string][] = [];
  for (let u = 0; u < n; u++)
    for (let v = u + 1; v < n; v++)
      if (g.active[u] && g.active[v] && g.adj[u]![v]) edges.push([g.slots[u]!.role, g.slots[v]!.role]);
  return { agents, edges, decision: g.slots[n - 1]!.role };
}

function summarise(pred: MasPrediction, ctx: PredictionContext): DesignPrediction {
  return {
    costUsd: pred.costUsd,
    latencyS: pred.latencyS,
    accuracy: pred.accuracy,
    difficulty: ctx.difficulty,
    band: difficultyBand(ctx.difficulty),
  };
}

export function designMas(req: DesignRequest): DesignResult {
  const prep = prepareDesign(req);
  const trace = {
    selection: prep.selection,
    matching: prep.matching,
    profileMatchesTraining: req.designer.profileHash === req.profile.profileHash,
  };
  if (prep.matching.status !== 'optimal') {
    // Even the decision agent alone breaks a budget on every backbone's standalone call.
    const fb = fallbackDecisionOnly({ graph: prep.base, ctx: prep.ctx, budgets: prep.budgets, pool: prep.pool });
    return {
      spec: graphToSpec(fb.graph),
      predicted: summarise(fb.prediction, prep.ctx),
      feasible: fb.feasible,
      trace: { ...trace, gates: [], synthesis: fb.actions },
    };
  }
  const f = runPolicy(req.designer, prep);
  const decoded = decodeTopology(prep.base, f, req.designer.hyper.gateThreshold, req.designer.hyper.edgeThreshold);
  let syn = synthesize({ graph: decoded, ctx: prep.ctx, budgets: prep.budgets, gate: f.gate, edge: f.edge, pool: prep.pool });
  // Dominance guard: never return a MAS predicted less accurate than the best single agent that
  // fits both budgets (the matching's linear utilities and the greedy synthesis are proxies).
  const alone = fallbackDecisionOnly({ graph: prep.base, ctx: prep.ctx, budgets: prep.budgets, pool: prep.pool });
  if (alone.feasible && alone.prediction.accuracy > syn.prediction.accuracy + 1e-12) {
    syn = {
      ...alone,
      actions: [
        ...syn.actions,
        {
          kind: 'fallback',
          reason: 'dominated',
          slot: prep.slots.length - 1,
          backbone: alone.graph.backbone[prep.slots.length - 1]!.id,
        },
      ],
    };
  }
  return {
    spec: graphToSpec(syn.graph),
    predicted: summarise(syn.prediction, prep.ctx),
    feasible: syn.feasible,
    trace: {
      ...trace,
      gates: prep.slots.map((s, v) => ({ role: s.role, p: f.gate[v]! })).filter((_, v) => prep.candidate[v]),
      synthesis: syn.actions,
    },
  };
}

export interface InitialDesignerOptions {
  profile: PoolProfile;
  embedder: EmbedderConfig;
  hyper?: Partial<DesignerHyper>;
  budgetScale?: TrainedDesigner['budgetScale'];
  seed?: string;
}

/** An untrained designer (seeded random weights, agents mostly on): usable before any training. */
export function createInitialDesigner(o: InitialDesignerOptions): TrainedDesigner {
  const hyper = { ...DEFAULT_HYPER, ...(o.hyper ?? {}) };
  const dim = o.embedder.dim;
  return {
    kind: TRAINED_DESIGNER_KIND,
    version: TRAINED_DESIGNER_VERSION,
    profileHash: o.profile.profileHash,
    embedder: o.embedder,
    hyper,
    budgetScale: o.budgetScale ?? {},
    weights: initWeights(nodeInputDim(dim), taskInputDim(dim), hyper.hidden, o.seed ?? 'designer-init'),
    lambdas: { cost: 1, latency: 1 },
    curve: [],
  };
}
