import type { Domain } from '../domain';
import { MESSAGE_OVERHEAD_TOKENS, agentInputTokens, meanOutputTokens, predictCall, sigmoid, type AgentPrediction } from '../estimate';
import { abilityFor, roleOutputTokensOf, type ProfiledBackbone } from '../profiling/pool-profile';

/**
 * Predicted token cost, latency and accuracy of a candidate MAS from the pool profile
 * (docs/METHOD.md §0.1). The design graph is index-based over a fixed role order with the
 * decision agent last; edges only go from lower to higher index, so every graph is a DAG.
 * Tokens, cost and latency of each call follow the shared model in core/estimate.ts.
 */

/**
 * Peer sway bounds (logit units) of the accuracy surrogate: a backbone that is always right is
 * swayed by PEER_SWAY.min, one that is never right by PEER_SWAY.max. Same values and form as the
 * simulated pool (activities/providers/sim/provider.ts PEER_SWAY_MIN/MAX), so the surrogate the
 * designer trains on matches, in expectation, the engine it is evaluated on.
 */
export const PEER_SWAY = { min: 0.4, max: 3 } as const;

export type { TokenCounter } from '../estimate';

export interface AgentSlot {
  role: string;
  /** Tokens of the role's system prompt. */
  systemTokens: number;
  isDecision: boolean;
  /** Role's output length relative to the backbone's mean (default 1; e.g. terse decision agents). */
  outputFactor?: number;
  /** The agent's role id: a role the profile measured (`roleOutputTokens`) is predicted from its measurements. */
  roleId?: string;
}

/** Predicted output tokens of `b` in `slot`: the profile's measured figure for the slot's role, else the mean × outputFactor. */
export function slotOutputTokens(b: ProfiledBackbone, slot: AgentSlot, domain: Domain): number {
  return roleOutputTokensOf(b, slot.roleId, domain) ?? meanOutputTokens(b, domain) * (slot.outputFactor ?? 1);
}

export interface DesignGraph {
  slots: readonly AgentSlot[];
  active: boolean[];
  /** Backbone per slot; null for slots without one (inactive). */
  backbone: (ProfiledBackbone | null)[];
  /** adj[u][v], meaningful for u < v only. */
  adj: boolean[][];
}

export interface PredictionContext {
  domain: Domain;
  /** Predicted IRT difficulty b̂(q). */
  difficulty: number;
  queryTokens: number;
  /** Peer sway of the accuracy surrogate: from `min` (a perfect backbone) to `max` (a hopeless one). */
  peerSway: { min: number; max: number };
}

/** A call's prediction (core/estimate.ts) with the surrogate's probability that its answer is right. */
type SurrogateAgentPrediction = AgentPrediction & { pCorrect: number };

export interface MasPrediction {
  costUsd: number;
  latencyS: number;
  accuracy: number;
  perAgent: (SurrogateAgentPrediction | null)[];
  /** Slot indices of the critical path, source first. */
  criticalPath: number[];
}

function decisionIndex(g: Pick<DesignGraph, 'slots'>): number {
  return g.slots.length - 1;
}

/** Input tokens of a standalone call (no predecessor messages). */
function standaloneInputTokens(slot: AgentSlot, queryTokens: number): number {
  return agentInputTokens(slot.systemTokens, queryTokens);
}

/** Cost and latency of one agent called alone: a lower bound on its share in any topology. */
export function standaloneCall(
  b: ProfiledBackbone,
  slot: AgentSlot,
  ctx: Pick<PredictionContext, 'domain' | 'queryTokens'>,
): { costUsd: number; latencyS: number; nIn: number; nOut: number } {
  const nIn = standaloneInputTokens(slot, ctx.queryTokens);
  const nOut = slotOutputTokens(b, slot, ctx.domain);
  return { ...predictCall(b, nIn, nOut), nIn, nOut };
}

/**
 * Accuracy surrogate (also the training environment's correctness model): agent v answers right
 * with p_v = σ(θ_v − b̂ + κ_v·mean_{u→v}(2p_u − 1)), θ_v = θ_{β(v),d}, where the sway
 * κ_v = min + (max − min)·(1 − σ(θ_v)) is larger for weaker backbones. Predecessors that lean
 * correct (p_u > ½) raise the logit, wrong-leaning ones lower it; |bonus| ≤ κ_v ≤ max. The MAS is
 * right when the decision agent is. This is the simulated pool's peer effect in expectation
 * (there, mean over judged peers of right − wrong, with sway from the backbone's accuracy).
 */
export function predictMas(g: DesignGraph, ctx: PredictionContext): MasPrediction {
  const n = g.slots.length;
  const per: (SurrogateAgentPrediction | null)[] = new Array<SurrogateAgentPrediction | null>(n).fill(null);
  const argPred = new Array<number>(n).fill(-1);
  let costUsd = 0;
  let latencyS = 0;
  let lastOnPath = -1;
  for (let v = 0; v < n; v++) {
    const b = g.backbone[v];
    if (!g.active[v] || !b) continue;
    const slot = g.slots[v]!;
    let nIn = standaloneInputTokens(slot, ctx.queryTokens);
    let startS = 0;
    let peer = 0;
    let nPeers = 0;
    for (let u = 0; u < v; u++) {
      const pu = per[u];
      if (!pu || !g.adj[u]![v]) continue;
      nIn += pu.nOut + MESSAGE_OVERHEAD_TOKENS;
      if (pu.finishS > startS) {
        startS = pu.finishS;
        argPred[v] = u;
      }
      peer += 2 * pu.pCorrect - 1;
      nPeers++;
    }
    const nOut = slotOutputTokens(b, slot, ctx.domain);
    const { costUsd: cost, latencyS: lat } = predictCall(b, nIn, nOut);
    const theta = abilityFor(b, ctx.domain);
    const sway = ctx.peerSway.min + (ctx.peerSway.max - ctx.peerSway.min) * (1 - sigmoid(theta));
    const bonus = nPeers ? sway * (peer / nPeers) : 0;
    const pCorrect = sigmoid(theta - ctx.difficulty + bonus);
    per[v] = { nIn, nOut, costUsd: cost, latencyS: lat, finishS: startS + lat, pCorrect };
    costUsd += cost;
    if (startS + lat > latencyS) {
      latencyS = startS + lat;
      lastOnPath = v;
    }
  }
  const criticalPath: number[] = [];
  for (let v = lastOnPath; v >= 0; v = argPred[v]!) criticalPath.unshift(v);
  const dec = per[decisionIndex(g)];
  return { costUsd, latencyS, accuracy: dec ? dec.pCorrect : 0, perAgent: per, criticalPath };
}

/** Every active non-decision agent without an active successor gets an edge to the decision agent. */
export function repairSinks(g: DesignGraph): void {
  const n = g.slots.length;
  const d = n - 1;
  for (let u = 0; u < d; u++) {
    if (!g.active[u]) continue;
    let hasOut = false;
    for (let v = u + 1; v < n; v++) if (g.active[v] && g.adj[u]![v]) hasOut = true;
    if (!hasOut) g.adj[u]![d] = true;
  }
}

/** Clears edges touching inactive slots. */
export function pruneInactiveEdges(g: DesignGraph): void {
  const n = g.slots.length;
  for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) if (!g.active[u] || !g.active[v]) g.adj[u]![v] = false;
}

export function cloneGraph(g: DesignGraph): DesignGraph {
  return { slots: g.slots, active: [...g.active], backbone: [...g.backbone], adj: g.adj.map((r) => [...r]) };
}

export function emptyAdjacency(n: number): boolean[][] {
  return Array.from({ length: n }, () => new Array<boolean>(n).fill(false));
}
