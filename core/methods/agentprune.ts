/**
 * `agentprune` — AgentPrune-style (Zhang et al., 2024, "Cut the Crap: An Economical Communication
 * Pipeline for LLM-based Multi-Agent Systems"): start from the full communication graph and prune
 * the lowest-scoring edges. AgentPrune learns edge masks (spatial and temporal, one-shot, low-rank)
 * on training queries; this reproduction scores edges by role/query embedding similarity, prunes a
 * fixed share (PRUNE_RATIO) of them, then keeps pruning the lowest-scoring edge while the predicted
 * cost or latency breaks the budget (an agent's last outgoing edge is never pruned: agents are not
 * removed, as in AgentPrune). One homogeneous backbone: the most able one for which some pruning
 * level fits; none: the maximally pruned graph on the backbone with the smallest overrun.
 */
import { lowestRemovableEdge, scoredFullGraph, toTopology, withoutEdge } from './scored-graph';
import type { MethodContext, MethodPlan } from './types';
import { describePrediction, firstFit, methodRng, planPrediction, rolePromptsFor, type Topology } from './util';

const PRUNE_RATIO = 0.5;

export function agentpruneSequence(ctx: MethodContext): Topology[] {
  let g = scoredFullGraph(ctx, methodRng(ctx, 'agentprune'));
  const base = Math.floor(PRUNE_RATIO * g.edges.length);
  for (let i = 0; i < base; i++) {
    const e = lowestRemovableEdge(g);
    if (!e) break;
    g = withoutEdge(g, e);
  }
  const seq = [toTopology(g)];
  for (let e = lowestRemovableEdge(g); e; e = lowestRemovableEdge(g)) {
    g = withoutEdge(g, e);
    seq.push(toTopology(g));
  }
  return seq;
}

export function planAgentprune(ctx: MethodContext): MethodPlan {
  const seq = agentpruneSequence(ctx);
  const rolePrompts = rolePromptsFor(seq[0]!, ctx);
  const ch = firstFit(seq, rolePrompts, ctx, 'backbone-first');
  return {
    spec: ch.spec,
    rolePrompts,
    note: `agentprune: ${ch.spec.agents.length} agents, ${ch.spec.edges.length} edges after pruning on ${ch.backbone.id}${ch.fits ? '' : ' (nothing fits: smallest overrun)'} (${describePrediction(ch.prediction)})`,
    predicted: planPrediction(ch.prediction),
  };
}
