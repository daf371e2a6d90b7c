/**
 * `agentdropout` — AgentDropout-style (Wang et al., 2025, "AgentDropout: Dynamic Agent Elimination
 * for Token-Efficient and High-Performance LLM-Based Multi-Agent Collaboration"): drop agents and
 * edges by a score. AgentDropout learns adjacency matrices and drops the agents with the lowest
 * weighted degree, then low-weight edges; this reproduction takes edge weights from role/query
 * embedding similarity, drops DROP_NODE_RATIO of the workers (lowest weighted degree) and
 * DROP_EDGE_RATIO of the remaining edges, then, while the predicted cost or latency breaks the
 * budget, keeps alternating: drop the lowest-degree worker, drop the lowest-scoring edge — down to
 * the decision agent alone. One homogeneous backbone: the most able one for which some step fits.
 */
import {
  edgeKey,
  lowestRemovableEdge,
  scoredFullGraph,
  toTopology,
  withoutEdge,
  withoutWorker,
  type ScoredGraph,
} from './scored-graph';
import type { MethodContext, MethodPlan } from './types';
import { describePrediction, firstFit, methodRng, planPrediction, rolePromptsFor, type Topology } from './util';

const DROP_NODE_RATIO = 0.2;
const DROP_EDGE_RATIO = 0.2;

/** The worker with the lowest weighted degree (sum of incident edge scores); undefined if none. */
function lowestDegreeWorker(g: ScoredGraph): string | undefined {
  let best: string | undefined;
  let bestDeg = Infinity;
  for (const w of g.workers) {
    let deg = 0;
    for (const [u, v] of g.edges) if (u === w.id || v === w.id) deg += g.score.get(edgeKey(u, v)) ?? 0;
    if (deg < bestDeg) {
      bestDeg = deg;
      best = w.id;
    }
  }
  return best;
}

export function agentdropoutSequence(ctx: MethodContext): Topology[] {
  let g = scoredFullGraph(ctx, methodRng(ctx, 'agentdropout'));
  const dropNodes = Math.round(DROP_NODE_RATIO * g.workers.length);
  for (let i = 0; i < dropNodes; i++) {
    const w = lowestDegreeWorker(g);
    if (w) g = withoutWorker(g, w);
  }
  const dropEdges = Math.round(DROP_EDGE_RATIO * g.edges.length);
  for (let i = 0; i < dropEdges; i++) {
    const e = lowestRemovableEdge(g);
    if (!e) break;
    g = withoutEdge(g, e);
  }
  const seq = [toTopology(g)];
  for (;;) {
    const w = lowestDegreeWorker(g);
    if (!w) break;
    g = withoutWorker(g, w);
    seq.push(toTopology(g));
    const e = lowestRemovableEdge(g);
    if (e) {
      g = withoutEdge(g, e);
      seq.push(toTopology(g));
    }
  }
  return seq;
}

export function planAgentdropout(ctx: MethodContext): MethodPlan {
  const seq = agentdropoutSequence(ctx);
  const rolePrompts = rolePromptsFor(seq[0]!, ctx);
  const ch = firstFit(seq, rolePrompts, ctx, 'backbone-first');
  return {
    spec: ch.spec,
    rolePrompts,
    note: `agentdropout: ${ch.spec.agents.length} agents, ${ch.spec.edges.length} edges after dropout on ${ch.backbone.id}${ch.fits ? '' : ' (nothing fits: smallest overrun)'} (${describePrediction(ch.prediction)})`,
    predicted: planPrediction(ch.prediction),
  };
}
