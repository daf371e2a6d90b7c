import type { Budgets } from '../mas';
import type { ProfiledBackbone } from '../profiling/pool-profile';
import {
  cloneGraph,
  emptyAdjacency,
  predictMas,
  pruneInactiveEdges,
  repairSinks,
  type DesignGraph,
  type MasPrediction,
  type PredictionContext,
} from './predict';

/**
 * Latency- and cost-aware topology synthesis (docs/METHOD.md §2.3). Starting from the decoded
 * topology, greedily:
 *   while L̂ > B_L: apply the action on the critical path with the smallest score lost per second
 *     saved: drop an edge, drop a worker, or move an agent to a faster backbone;
 *   while Ĉ > B_C: apply the action with the smallest score lost per dollar saved: drop a worker,
 *     drop an edge, or downgrade an agent to a cheaper backbone.
 * The score an action loses is the drop in predicted accuracy (surrogate of predict.ts) plus
 * LEARNED_WEIGHT times the policy's own score of what is removed (gate g_v, edge s_uv), so among
 * actions that cost the same accuracy the policy's least wanted parts go first. The policy's scores
 * alone are not comparable across kinds of action (a gate vs an edge probability vs a backbone
 * swap, which has none): scored that way, the greedy step kept downgrading the decision agent.
 * While both budgets are broken an action may not worsen the other one; while one holds, actions
 * may not break it. Each step strictly lowers the violated quantity without raising the other, so
 * the loop terminates. If it stalls, the decision agent alone on the most accurate backbone that
 * fits both budgets is returned; if none fits, the decision agent alone on the backbone with the
 * smallest budget overrun, flagged infeasible. Hence L̂ ≤ B_L and Ĉ ≤ B_C whenever the decision
 * agent alone fits on some backbone.
 */

export interface SynthesisAction {
  kind: 'remove-edge' | 'remove-agent' | 'swap-backbone' | 'fallback';
  /** `dominated`: the best single agent that fits was predicted more accurate than the synthesised MAS. */
  reason: 'latency' | 'cost' | 'infeasible' | 'dominated';
  slot?: number;
  from?: number;
  to?: number;
  backbone?: string;
  /** Score lost per unit saved (seconds or USD). */
  ratio?: number;
}

export interface SynthesisResult {
  graph: DesignGraph;
  prediction: MasPrediction;
  feasible: boolean;
  actions: SynthesisAction[];
}

export interface SynthesisInput {
  graph: DesignGraph;
  ctx: PredictionContext;
  budgets: Budgets;
  gate: readonly number[];
  edge: readonly (readonly number[])[];
  /** Backbones allowed for swaps and the fallback (the whole allowed pool). */
  pool: readonly ProfiledBackbone[];
  /** Restrict the moves (plug-in use keeps the topology: swaps only, no fallback). Default: all. */
  moves?: { structure: boolean; swaps: boolean; fallback: boolean };
}

/** Relative tolerance on budget checks (floating-point noise only). */
const EPS = 1e-12;
const MIN_SCORE = 1e-6;
/** Weight of the policy's own gate/edge score in an action's score (tie-break between equal losses). */
const LEARNED_WEIGHT = 0.1;
const MAX_STEPS = 500;

function within(p: MasPrediction, b: Budgets): { cost: boolean; latency: boolean } {
  return {
    cost: b.maxCostUsd === undefined || p.costUsd <= b.maxCostUsd * (1 + EPS),
    latency: b.maxLatencyS === undefined || p.latencyS <= b.maxLatencyS * (1 + EPS),
  };
}

interface Candidate {
  action: SynthesisAction;
  graph: DesignGraph;
  prediction: MasPrediction;
  score: number;
}

function removeAgent(g: DesignGraph, v: number): DesignGraph {
  const next = cloneGraph(g);
  next.active[v] = false;
  pruneInactiveEdges(next);
  repairSinks(next);
  return next;
}

function outDegree(g: DesignGraph, u: number): number {
  let d = 0;
  for (let v = u + 1; v < g.slots.length; v++) if (g.active[v] && g.adj[u]![v]) d++;
  return d;
}

/** All structural and backbone actions on the current graph, with their predictions. */
function candidates(s: SynthesisInput, g: DesignGraph, pred: MasPrediction, focus: 'latency' | 'cost'): Candidate[] {
  const n = g.slots.length;
  const dec = n - 1;
  const onPath = new Set(pred.criticalPath);
  const out: Candidate[] = [];
  const push = (action: SynthesisAction, graph: DesignGraph, learned: number): void => {
    const prediction = predictMas(graph, s.ctx);
    const lost = Math.max(0, pred.accuracy - prediction.accuracy) + LEARNED_WEIGHT * learned;
    out.push({ action, graph, prediction, score: Math.max(MIN_SCORE, lost) });
  };
  const moves = s.moves ?? { structure: true, swaps: true, fallback: true };
  for (let u = 0; u < n && moves.structure; u++) {
    if (!g.active[u]) continue;
    for (let v = u + 1; v < n; v++) {
      if (!g.active[v] || !g.adj[u]![v]) continue;
      if (focus === 'latency' && !onPath.has(v)) continue;
      if (outDegree(g, u) < 2) continue; // u would become a sink; dropping u is the agent action
      const next = cloneGraph(g);
      next.adj[u]![v] = false;
      push({ kind: 'remove-edge', reason: focus, from: u, to: v }, next, s.edge[u]?.[v] ?? 0);
    }
  }
  for (let v = 0; v < dec && moves.structure; v++) {
    if (!g.active[v]) continue;
    if (focus === 'latency' && !onPath.has(v)) continue;
    push({ kind: 'remove-agent', reason: focus, slot: v }, removeAgent(g, v), s.gate[v] ?? 0);
  }
  for (let v = 0; v < n && moves.swaps; v++) {
    const cur = g.backbone[v];
    if (!g.active[v] || !cur) continue;
    if (focus === 'latency' && !onPath.has(v)) continue;
    for (const b of s.pool) {
      if (b.id === cur.id) continue;
      const next = cloneGraph(g);
      next.backbone[v] = b;
      push({ kind: 'swap-backbone', reason: focus, slot: v, backbone: b.id }, next, 0);
    }
  }
  return out;
}

/** Decision agent alone on each allowed backbone; best feasible by accuracy, else least overrun. */
export function fallbackDecisionOnly(s: Pick<SynthesisInput, 'graph' | 'ctx' | 'budgets' | 'pool'>): SynthesisResult {
  const n = s.graph.slots.length;
  let best: { g: DesignGraph; p: MasPrediction; feasible: boolean; key: number } | undefined;
  for (const b of s.pool) {
    const g: DesignGraph = {
      slots: s.graph.slots,
      active: s.graph.slots.map((_, v) => v === n - 1),
      backbone: s.graph.slots.map((_, v) => (v === n - 1 ? b : null)),
      adj: emptyAdjacency(n),
    };
    const p = predictMas(g, s.ctx);
    const w = within(p, s.budgets);
    const feasible = w.cost && w.latency;
    const overrun = Math.max(
      s.budgets.maxCostUsd === undefined ? 0 : p.costUsd / s.budgets.maxCostUsd,
      s.budgets.maxLatencyS === undefined ? 0 : p.latencyS / s.budgets.maxLatencyS,
    );
    // Feasible ones rank by accuracy (then cost); infeasible ones by overrun, always below feasible.
    const key = feasible ? 10 + p.accuracy - p.costUsd * 1e-6 : -overrun;
    if (!best || key > best.key) best = { g, p, feasible, key };
  }
  if (!best) throw new Error('synthesis: empty pool');
  return {
    graph: best.g,
    prediction: best.p,
    feasible: best.feasible,
    actions: [
      { kind: 'fallback', reason: best.feasible ? 'latency' : 'infeasible', slot: n - 1, backbone: best.g.backbone[n - 1]!.id },
    ],
  };
}

export function synthesize(s: SynthesisInput): SynthesisResult {
  let g = s.graph;
  let pred = predictMas(g, s.ctx);
  const actions: SynthesisAction[] = [];
  for (let step = 0; step < MAX_STEPS; step++) {
    const ok = within(pred, s.budgets);
    if (ok.cost && ok.latency) return { graph: g, prediction: pred, feasible: true, actions };
    const focus: 'latency' | 'cost' = ok.latency ? 'cost' : 'latency';
    let best: Candidate | undefined;
    let bestRatio = Infinity;
    for (const c of candidates(s, g, pred, focus)) {
      const saved = focus === 'latency' ? pred.latencyS - c.prediction.latencyS : pred.costUsd - c.prediction.costUsd;
      if (!(saved > 0)) continue;
      // Do not break (or worsen, while broken) the other budget.
      if (focus === 'latency') {
        if (ok.cost ? !within(c.prediction, s.budgets).cost : c.prediction.costUsd > pred.costUsd) continue;
      } else if (!within(c.prediction, s.budgets).latency) continue;
      const ratio = c.score / saved;
      if (ratio < bestRatio) {
        bestRatio = ratio;
        best = c;
      }
    }
    if (!best) break;
    actions.push({ ...best.action, ratio: bestRatio });
    g = best.graph;
    pred = best.prediction;
  }
  const ok = within(pred, s.budgets);
  if (ok.cost && ok.latency) return { graph: g, prediction: pred, feasible: true, actions };
  if (s.moves && !s.moves.fallback) return { graph: g, prediction: pred, feasible: false, actions };
  const fb = fallbackDecisionOnly(s);
  return { ...fb, actions: [...actions, ...fb.actions] };
}
