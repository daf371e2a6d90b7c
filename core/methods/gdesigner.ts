/**
 * `gdesigner` — G-Designer-style (Zhang et al., 2024, "G-Designer: Architecting Multi-agent
 * Communication Topologies via Graph Neural Networks"): a task-adaptive sparse topology decoded
 * from role and query embeddings. G-Designer encodes role profiles plus a virtual task node with a
 * trained GNN (VGAE) and decodes a sparsified adjacency; this reproduction has no training: node
 * features are hashed n-gram embeddings of the role prompt plus the query (core/designer/embed.ts),
 * edge scores their cosine similarity, the order is by role/query relevance, and each agent keeps
 * its ≤ 2 highest-scoring incoming edges among those above the mean score (the most relevant agent
 * always reaches the decision agent; sinks are wired to it). Like G-Designer it uses one backbone
 * for all agents (topology first): the best affordable one for the designed topology. Budget
 * adaptation (not in G-Designer): when no backbone fits, the least relevant agent is dropped and the
 * topology re-decoded, down to the decision agent alone.
 */
import { scoredFullGraph, scoreOf, toTopology, type ScoredGraph } from './scored-graph';
import type { MethodContext, MethodPlan } from './types';
import { describePrediction, firstFit, methodRng, planPrediction, rolePromptsFor, type Topology } from './util';

const GDESIGNER_MAX_IN_DEGREE = 2;

/** The sparse topology over the given workers (a prefix of the relevance order). */
function sparseTopology(g: ScoredGraph, keep: number): Topology {
  const workers = g.workers.slice(0, keep);
  const kept = new Set(workers.map((w) => w.id));
  const cand = g.edges.filter(([u, v]) => kept.has(u) && kept.has(v));
  const mean = cand.length ? cand.reduce((s, e) => s + scoreOf(g, e), 0) / cand.length : 0;
  const edges: [string, string][] = [];
  for (const w of workers) {
    const incoming = cand
      .filter(([, v]) => v === w.id)
      .filter((e) => scoreOf(g, e) >= mean)
      .sort((a, b) => scoreOf(g, b) - scoreOf(g, a))
      .slice(0, GDESIGNER_MAX_IN_DEGREE);
    edges.push(...incoming);
  }
  if (workers.length > 0) edges.push([workers[0]!.id, g.decision.id]);
  const hasOut = new Set(edges.map(([u]) => u));
  for (const w of workers) if (!hasOut.has(w.id)) edges.push([w.id, g.decision.id]);
  return toTopology({ workers, decision: g.decision, edges });
}

export function gdesignerSequence(ctx: MethodContext): Topology[] {
  const g = scoredFullGraph(ctx, methodRng(ctx, 'gdesigner'));
  const seq: Topology[] = [];
  for (let k = g.workers.length; k >= 0; k--) seq.push(sparseTopology(g, k));
  return seq;
}

export function planGdesigner(ctx: MethodContext): MethodPlan {
  const seq = gdesignerSequence(ctx);
  const rolePrompts = rolePromptsFor(seq[0]!, ctx);
  const ch = firstFit(seq, rolePrompts, ctx, 'topology-first');
  const shrunk = ch.step > 0 ? `; ${ch.step} least relevant agent(s) dropped to fit` : '';
  return {
    spec: ch.spec,
    rolePrompts,
    note: `gdesigner: ${ch.spec.agents.length} agents, ${ch.spec.edges.length} edges on ${ch.backbone.id}${shrunk}${ch.fits ? '' : ' (nothing fits: smallest overrun)'} (${describePrediction(ch.prediction)})`,
    predicted: planPrediction(ch.prediction),
  };
}
