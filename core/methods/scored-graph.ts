/**
 * The scored agent graph the topology-first baselines (G-Designer-, AgentPrune- and
 * AgentDropout-style) start from: the domain's worker roles ordered by their relevance to the
 * query, every forward edge between them and every worker → decision edge, each edge scored by
 * role/query embedding similarity (util.ts `similarityScores`). Forward edges in relevance order
 * make every subgraph a DAG.
 */
import type { Rng } from '../random';
import type { MethodContext } from './types';
import { argsortDesc, similarityScores, topologyWorkerCount, workerRoles, type Topology } from './util';

export interface ScoredGraph {
  /** Workers, most relevant first. */
  workers: { id: string; role: string }[];
  decision: { id: string; role: string };
  relevance: Map<string, number>;
  /** Score of edge `${from}>${to}`. */
  score: Map<string, number>;
  edges: [string, string][];
}

export const edgeKey = (u: string, v: string): string => `${u}>${v}`;

export function scoredFullGraph(ctx: MethodContext, rng: Rng): ScoredGraph {
  const roles = workerRoles(ctx, topologyWorkerCount(ctx));
  const ids = roles.map((_, i) => `a${i + 1}`);
  const s = similarityScores([...roles, ctx.decisionRole], ctx, rng);
  const order = argsortDesc(s.relevance.slice(0, roles.length));
  const workers = order.map((i) => ({ id: ids[i]!, role: roles[i]!.id }));
  const decision = { id: 'decision', role: ctx.decisionRole.id };
  const relevance = new Map(order.map((i) => [ids[i]!, s.relevance[i]!]));
  const score = new Map<string, number>();
  const edges: [string, string][] = [];
  const d = roles.length;
  for (let x = 0; x < order.length; x++) {
    const u = order[x]!;
    for (let y = x + 1; y < order.length; y++) {
      const v = order[y]!;
      edges.push([ids[u]!, ids[v]!]);
      score.set(edgeKey(ids[u]!, ids[v]!), s.edge[u]![v]!);
    }
    edges.push([ids[u]!, decision.id]);
    score.set(edgeKey(ids[u]!, decision.id), s.edge[u]![d]!);
  }
  return { workers, decision, relevance, score, edges };
}

export function scoreOf(g: ScoredGraph, e: readonly [string, string]): number {
  return g.score.get(edgeKey(e[0], e[1])) ?? 0;
}

export function toTopology(g: Pick<ScoredGraph, 'workers' | 'decision' | 'edges'>): Topology {
  return {
    agents: [...g.workers.map((w) => ({ ...w })), { ...g.decision }],
    edges: g.edges.map(([u, v]) => [u, v]),
    decision: g.decision.id,
  };
}

/** The lowest-scoring edge whose removal leaves its source at least one outgoing edge; undefined if none. */
export function lowestRemovableEdge(g: Pick<ScoredGraph, 'edges' | 'score'>): [string, string] | undefined {
  const outDeg = new Map<string, number>();
  for (const [u] of g.edges) outDeg.set(u, (outDeg.get(u) ?? 0) + 1);
  let best: [string, string] | undefined;
  let bestScore = Infinity;
  for (const e of g.edges) {
    if ((outDeg.get(e[0]) ?? 0) <= 1) continue;
    const s = g.score.get(edgeKey(e[0], e[1])) ?? 0;
    if (s < bestScore) {
      bestScore = s;
      best = e;
    }
  }
  return best;
}

export function withoutEdge<G extends Pick<ScoredGraph, 'edges'>>(g: G, e: readonly [string, string]): G {
  return { ...g, edges: g.edges.filter(([u, v]) => !(u === e[0] && v === e[1])) };
}

/** Removes worker `id` and its edges; predecessors left without an outgoing edge send to the decision agent. */
export function withoutWorker(g: ScoredGraph, id: string): ScoredGraph {
  const edges = g.edges.filter(([u, v]) => u !== id && v !== id);
  const hasOut = new Set(edges.map(([u]) => u));
  for (const w of g.workers) if (w.id !== id && !hasOut.has(w.id)) edges.push([w.id, g.decision.id]);
  return { ...g, workers: g.workers.filter((w) => w.id !== id), edges };
}
