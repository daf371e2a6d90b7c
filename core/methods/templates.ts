/**
 * Fixed topology templates shared by the homogeneous baselines and BAMAS: agent ids, roles,
 * method-specific persona suffixes and edges, without backbones (see util.ts `Topology`).
 */
import type { MethodContext } from './types';
import { chooseHomogeneous, describePrediction, planPrediction, rolePromptsFor, workerRoles, type Topology } from './util';
import type { MethodPlan } from './types';

const DEFAULT_WORKERS = 3;

/** w1 → w2 → … → wn → decision: each agent refines the previous one's answer. */
export function chainTopology(ctx: MethodContext, n = DEFAULT_WORKERS): Topology {
  const roles = workerRoles(ctx, n);
  const agents = roles.map((r, i) => ({ id: `w${i + 1}`, role: r.id }));
  const edges: [string, string][] = agents.slice(1).map((a, i) => [agents[i]!.id, a.id]);
  if (agents.length > 0) edges.push([agents[agents.length - 1]!.id, 'decision']);
  return { agents: [...agents, { id: 'decision', role: ctx.decisionRole.id }], edges, decision: 'decision' };
}

/** n independent workers in parallel, all sending to the decision agent (the hub). */
export function starTopology(ctx: MethodContext, n = DEFAULT_WORKERS): Topology {
  const agents = workerRoles(ctx, n).map((r, i) => ({ id: `w${i + 1}`, role: r.id }));
  return {
    agents: [...agents, { id: 'decision', role: ctx.decisionRole.id }],
    edges: agents.map((a) => [a.id, 'decision'] as [string, string]),
    decision: 'decision',
  };
}

/** Two fully connected layers of `width` workers, then the decision agent (fed by layer 2). */
export function layeredTopology(ctx: MethodContext, width = DEFAULT_WORKERS): Topology {
  const roles = workerRoles(ctx, 2 * width);
  const l1 = roles.slice(0, width).map((r, i) => ({ id: `l1-${i + 1}`, role: r.id }));
  const l2 = roles.slice(width).map((r, i) => ({ id: `l2-${i + 1}`, role: r.id }));
  const edges: [string, string][] = [];
  for (const u of l1) for (const v of l2) edges.push([u.id, v.id]);
  for (const v of l2) edges.push([v.id, 'decision']);
  return { agents: [...l1, ...l2, { id: 'decision', role: ctx.decisionRole.id }], edges, decision: 'decision' };
}

const DEBATE_ROUND1 =
  'You take part in a debate with other agents. Solve the problem independently and give your answer with a short justification.';
const DEBATE_ROUND2 =
  "You take part in a debate. You see every debater's first-round answer (yours included). Point out errors, then give your updated answer with a short justification.";
const DEBATE_JUDGE =
  "You are the judge of a debate. Weigh the debaters' final answers and arguments, then give the single final answer in the required format.";

/** Two rounds of `debaters` debaters (round 2 sees every round-1 answer) and a judge. */
export function debateTopology(ctx: MethodContext, debaters = 3): Topology {
  const roles = workerRoles(ctx, debaters);
  const r1 = roles.map((r, i) => ({ id: `r1-d${i + 1}`, role: r.id, systemPrompt: `${r.prompt}\n\n${DEBATE_ROUND1}` }));
  const r2 = roles.map((r, i) => ({ id: `r2-d${i + 1}`, role: r.id, systemPrompt: `${r.prompt}\n\n${DEBATE_ROUND2}` }));
  const edges: [string, string][] = [];
  for (const u of r1) for (const v of r2) edges.push([u.id, v.id]);
  for (const v of r2) edges.push([v.id, 'judge']);
  const judge = { id: 'judge', role: ctx.decisionRole.id, systemPrompt: `${ctx.decisionRole.prompt}\n\n${DEBATE_JUDGE}` };
  return { agents: [...r1, ...r2, judge], edges, decision: 'judge' };
}

export const COT_SAMPLE = 'Think step by step, then state your final answer.';
export const COT_AGGREGATE =
  'You receive several independent step-by-step solutions to the same question. Take a majority vote over their final answers (break ties by the most careful reasoning) and give that answer in the required format.';

/** k independent chain-of-thought samples and an aggregator agent that takes the majority vote. */
export function cotScTopology(ctx: MethodContext, k = 5): Topology {
  const d = ctx.decisionRole;
  const samples = Array.from({ length: k }, (_, i) => ({
    id: `s${i + 1}`,
    role: d.id,
    systemPrompt: `${d.prompt}\n\n${COT_SAMPLE}`,
  }));
  const agg = { id: 'aggregator', role: d.id, systemPrompt: `${d.prompt}\n\n${COT_AGGREGATE}` };
  return { agents: [...samples, agg], edges: samples.map((s) => [s.id, agg.id] as [string, string]), decision: agg.id };
}

/** A fixed topology on the best affordable homogeneous backbone (util.ts `chooseHomogeneous`). */
export function homogeneousPlan(method: string, top: Topology, ctx: MethodContext): MethodPlan {
  const rolePrompts = rolePromptsFor(top, ctx);
  const choice = chooseHomogeneous(top, rolePrompts, ctx);
  const how = choice.fits ? 'best affordable backbone' : 'no backbone fits the budgets; smallest overrun';
  return {
    spec: choice.spec,
    rolePrompts,
    note: `${method}: ${top.agents.length} agents on ${choice.backbone.id} (${how}; ${describePrediction(choice.prediction)})`,
    predicted: planPrediction(choice.prediction),
  };
}
