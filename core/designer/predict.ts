import type { Domain } from '../domain';
import { callCostUsd, callLatencyS } from '../pool';
import { sigmoid } from './irt';
import { abilityFor, meanOutputTokensFor, type ProfiledBackbone } from './pool-profile';

/**
 * Predicted token cost, latency and accuracy of a candidate MAS from the pool profile
 * (METHOD.md Definitions). The design graph is index-based over a fixed role order with the
 * decision agent last; edges only go from lower to higher index, so every graph is a DAG.
 */

/** Chat-format tokens per call beyond system prompt and query (role tags, separators). */
export const CALL_OVERHEAD_TOKENS = 12;
/** Tokens framing each predecessor message ("Agent X said: ..."). */
export const MESSAGE_OVERHEAD_TOKENS = 8;
/** Default bound on the peer effect in the accuracy surrogate (logit units). */
export const DEFAULT_PEER_KAPPA = 1;

export type TokenCounter = (text: string) => number;

/** Rough tokenizer-free count (~4 characters a token) used when no real tokenizer is supplied. */
export const approxTokenCount: TokenCounter = (text) => Math.max(1, Math.ceil(text.length / 4));

export interface AgentSlot {
  role: string;
  /** Tokens of the role's system prompt. */
  systemTokens: number;
  isDecision: boolean;
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
  /** Bound on the peer bonus in the accuracy surrogate. */
  peerKappa: number;
}

export interface AgentPrediction {
  nIn: number;
  nOut: number;
  costUsd: number;
  latencyS: number;
  finishS: number;
  /** Probability this agent's answer is right (surrogate). */
  pCorrect: number;
}

export interface MasPrediction {
  costUsd: number;
  latencyS: number;
  accuracy: number;
  perAgent: (AgentPrediction | null)[];
  /** Slot indices of the critical path, source first. */
  criticalPath: number[];
}

export function decisionIndex(g: Pick<DesignGraph, 'slots'>): number {
  return g.slots.length - 1;
}

/** Input tokens of a standalone call (no predecessor messages). */
export function standaloneInputTokens(slot: AgentSlot, queryTokens: number): number {
  return slot.systemTokens + queryTokens + CALL_OVERHEAD_TOKENS;
}

/** Cost and latency of one agent called alone: a lower bound on its share in any topology. */
export function standaloneCall(
  b: ProfiledBackbone,
  slot: AgentSlot,
  ctx: Pick<PredictionContext, 'domain' | 'queryTokens'>,
): { costUsd: number; latencyS: number; nIn: number; nOut: number } {
  const nIn = standaloneInputTokens(slot, ctx.queryTokens);
  const nOut = meanOutputTokensFor(b, ctx.domain);
  return { costUsd: callCostUsd(b, nIn, nOut), latencyS: callLatencyS(b.latency, nIn, nOut), nIn, nOut };
}

/**
 * Accuracy surrogate (also the training environment's correctness model): agent v answers right
 * with p_v = σ(θ_{β(v),d} − b̂ + κ·mean_{u→v}(2p_u − 1)). Predecessors that lean correct (p_u > ½)
 * raise the logit, wrong-leaning ones lower it; the bonus is bounded by κ. The MAS is right when
 * the decision agent is. This mirrors the simulated pool's peer effect in expectation.
 */
export function predictMas(g: DesignGraph, ctx: PredictionContext): MasPrediction {
  const n = g.slots.length;
  const per: (AgentPrediction | null)[] = new Array<AgentPrediction | null>(n).fill(null);
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
    const nOut = meanOutputTokensFor(b, ctx.domain);
    const lat = callLatencyS(b.latency, nIn, nOut);
    const cost = callCostUsd(b, nIn, nOut);
    const bonus = nPeers ? ctx.peerKappa * (peer / nPeers) : 0;
    const pCorrect = sigmoid(abilityFor(b, ctx.domain) - ctx.difficulty + bonus);
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
