import { validateSpec } from '../dag';
import type { Domain } from '../domain';
import type { Budgets, MasSpec } from '../mas';
import { countTokens as realTokenCount } from '../tokens';
import { budgetRefs } from './features';
import { buildMatchingProblem, type MatchingSolution, type MatchingSolver } from './matching';
import { abilityFor, predictDifficulty, type PoolProfile, type ProfiledBackbone } from '../profiling/pool-profile';
import {
  predictMas,
  type AgentSlot,
  type DesignGraph,
  type MasPrediction,
  type PredictionContext,
  type TokenCounter,
} from './predict';
import { defaultBudgetScale } from './designer';
import { synthesize } from './synthesis';
import { DEFAULT_HYPER, type DesignerHyper } from './trained-designer';

/**
 * agentbalance as a plug-in (docs/METHOD.md §2.5): keep an existing MAS's topology (agents, roles,
 * edges, decision agent) and re-assign only the backbones with the query-conditioned matching MIP
 * (every agent required). The MIP's budget rows are lower bounds for any topology, so the real
 * topology's predicted cost/latency is then checked and, if over, fixed by backbone swaps only
 * (synthesis with structural moves off). Returns the re-assigned spec and what it predicts.
 */

export interface PluginAssignRequest {
  spec: MasSpec;
  query: string;
  domain: Domain;
  budgets: Budgets;
  profile: PoolProfile;
  /** System prompt per role id (agents with their own `systemPrompt` use that). */
  rolePrompts: Readonly<Record<string, string>>;
  solver: MatchingSolver;
  hyper?: Partial<DesignerHyper>;
  countTokens?: TokenCounter;
  difficulty?: number;
  allowBackbones?: readonly string[];
  /** Output length per role relative to the backbone's mean (see DesignRequest). */
  roleOutputFactor?: Readonly<Record<string, number>>;
}

export interface PluginAssignResult {
  spec: MasSpec;
  predicted: MasPrediction;
  /** Both budgets hold for the prediction. */
  feasible: boolean;
  matching: MatchingSolution;
}

/** What the profile predicts for one assignment of a fixed topology (portfolio.ts `scoreSpec`). */
export interface PluginPrediction {
  /** E_b[accuracy] if nothing were truncated. */
  accuracy: number;
  /** Predicted chance that the spend fits both budgets. */
  fit: number;
}

/**
 * The plug-in's acceptance rule (docs/METHOD.md §2.5): the re-assignment replaces the base
 * method's backbones only when it is predicted more accurate by at least `tolerance`, more accurate
 * *within the budgets* (accuracy · fit) by at least `tolerance`, and no more likely to break a
 * budget. A trade of accuracy for budget safety (or the reverse) is refused, because the base
 * method's spend was judged by its own estimate, which differs from the profile's
 * (docs/METHOD.md §0.1), and the runtime caps rather than fails a run that would overrun: a
 * predicted overrun of the base is not a loss the plug-in can count on avoiding. A gain that would
 * not survive the budgets (both designs far over them) is no gain either. So the plug-in is either
 * the base itself or predicted to dominate it, and cannot be worse in expectation whenever the
 * profile ranks abilities right.
 */
export function pluginImproves(base: PluginPrediction, reassigned: PluginPrediction, tolerance: number): boolean {
  return (
    reassigned.accuracy >= base.accuracy + tolerance &&
    reassigned.fit >= base.fit - 1e-9 &&
    reassigned.accuracy * reassigned.fit >= base.accuracy * base.fit + tolerance
  );
}

/**
 * No agent of `reassigned` runs on a backbone less able in the domain than its backbone in `base`.
 * The MAS's chance to be right grows with every agent's ability in the accuracy surrogate (§0.1) and
 * in any peer model where a more able agent is more often right, so with this the plug-in's
 * accuracy cannot fall whatever the peer model, as long as the abilities rank right. Without it, a
 * gain predicted by trading weaker workers for a stronger decision agent rests on the surrogate's
 * peer sway, which is weaker than the simulated pool's on hard benchmarks (docs/METHOD.md §2.5).
 */
export function noAgentWeaker(base: MasSpec, reassigned: MasSpec, profile: PoolProfile, domain: Domain): boolean {
  const byId = new Map(profile.backbones.map((b) => [b.id, b]));
  const theta = (id: string): number => {
    const b = byId.get(id);
    return b ? abilityFor(b, domain) : -Infinity;
  };
  const old = new Map(base.agents.map((a) => [a.id, a.backbone]));
  return reassigned.agents.every((a) => {
    const was = old.get(a.id);
    return was !== undefined && theta(a.backbone) >= theta(was) - 1e-12;
  });
}

export function assignBackbones(req: PluginAssignRequest): PluginAssignResult {
  const hyper = { ...DEFAULT_HYPER, ...(req.hyper ?? {}) };
  const count = req.countTokens ?? realTokenCount;
  const allow = req.allowBackbones ? new Set(req.allowBackbones) : undefined;
  const pool: ProfiledBackbone[] = allow ? req.profile.backbones.filter((b) => allow.has(b.id)) : [...req.profile.backbones];
  if (pool.length === 0) throw new Error('assignBackbones: no backbones allowed');
  // Topological order with the decision agent last (it has no successors, so this stays valid).
  const { order } = validateSpec(req.spec);
  const ids = [...order.filter((id) => id !== req.spec.decision), req.spec.decision];
  const agents = ids.map((id) => req.spec.agents.find((a) => a.id === id)!);
  const slots: AgentSlot[] = agents.map((a, i) => {
    const prompt = a.systemPrompt ?? req.rolePrompts[a.role];
    if (prompt === undefined) throw new Error(`assignBackbones: no prompt for role ${a.role}`);
    const factor = req.roleOutputFactor?.[a.role];
    return {
      role: a.id,
      roleId: a.role,
      systemTokens: count(prompt),
      isDecision: i === agents.length - 1,
      ...(factor !== undefined ? { outputFactor: factor } : {}),
    };
  });
  const difficulty = req.difficulty ?? predictDifficulty(req.profile.difficultyRegressor, req.query, req.domain);
  const ctx: PredictionContext = {
    domain: req.domain,
    difficulty,
    queryTokens: count(req.query),
    peerSway: { min: hyper.peerSwayMin, max: hyper.peerSwayMax },
  };
  const refs = budgetRefs(req.budgets, defaultBudgetScale(pool, slots, ctx));
  const matching = req.solver(
    buildMatchingProblem({
      slots,
      ctx,
      candidates: pool,
      budgets: req.budgets,
      refs,
      workerUtility: hyper.workerUtility,
      lambdaC: hyper.matchLambdaC,
      lambdaL: hyper.matchLambdaL,
      allRequired: true,
    }),
  );
  const n = slots.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  const adj = slots.map(() => new Array<boolean>(n).fill(false));
  for (const [u, v] of req.spec.edges) adj[index.get(u)!]![index.get(v)!] = true;
  // Infeasible MIP: start from the cheapest backbone everywhere and let the swaps do what they can.
  const cheapest = [...pool].sort((a, b) => a.priceInPerMTok + a.priceOutPerMTok - (b.priceInPerMTok + b.priceOutPerMTok))[0]!;
  const graph: DesignGraph = {
    slots,
    active: slots.map(() => true),
    backbone: slots.map((_, r) => (matching.status === 'optimal' ? pool[matching.assignment[r]!]! : cheapest)),
    adj,
  };
  const syn = synthesize({
    graph,
    ctx,
    budgets: req.budgets,
    gate: slots.map(() => 1),
    edge: slots.map(() => new Array<number>(n).fill(1)),
    pool,
    moves: { structure: false, swaps: true, fallback: false },
  });
  const byId = new Map(ids.map((id, i) => [id, syn.graph.backbone[i]!.id]));
  return {
    spec: { ...req.spec, agents: req.spec.agents.map((a) => ({ ...a, backbone: byId.get(a.id)! })) },
    predicted: predictMas(syn.graph, ctx),
    feasible: syn.feasible,
    matching,
  };
}
