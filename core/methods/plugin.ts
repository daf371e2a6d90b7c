/**
 * `plugin-gdesigner`, `plugin-agentprune`, `plugin-agentdropout` — agentbalance as a plug-in
 * (docs/METHOD.md §2.5): keep the topology-first method's topology (agents, roles, edges, decision
 * agent) and re-assign each agent's backbone for the query. With `ctx.pluginAssigner` (wired by
 * activities/campaign.ts: the designer's query-conditioned role-backbone matching) that assignment
 * is the designer's;
 * without it, util.ts `greedyAssign`: start from the cheapest homogeneous assignment and repeatedly
 * take the single-agent upgrade with the highest predicted-success gain per budget used, every step
 * checked exactly against the cost and latency budgets (decision agent weighted 1, workers 0.3).
 */
import type { MasSpec } from '../mas';
import { planAgentdropout } from './agentdropout';
import { planAgentprune } from './agentprune';
import { planGdesigner } from './gdesigner';
import type { MethodContext, MethodPlan, MethodPlanner } from './types';
import { describePrediction, greedyAssign, planPrediction, predictSpec, topologyOf } from './util';

const PLUGIN_BASES = {
  gdesigner: planGdesigner,
  agentprune: planAgentprune,
  agentdropout: planAgentdropout,
} as const satisfies Record<string, MethodPlanner>;
export type PluginBase = keyof typeof PLUGIN_BASES;

/**
 * The method whose seed a run plans with: `plugin-X` plans with X's, so that X's seeded tie-breaks
 * (util.ts `methodRng`) decode exactly X's topology and the plug-in changes backbones only (#13).
 */
export function planningSeedMethod(method: string): string {
  const base = method.startsWith('plugin-') ? method.slice('plugin-'.length) : undefined;
  return base !== undefined && base in PLUGIN_BASES ? base : method;
}

function sameTopology(a: MasSpec, b: MasSpec): boolean {
  const agents = (s: MasSpec): string =>
    s.agents
      .map((x) => `${x.id}:${x.role}:${x.systemPrompt ?? ''}`)
      .sort()
      .join('\n');
  const edges = (s: MasSpec): string =>
    s.edges
      .map(([u, v]) => `${u}>${v}`)
      .sort()
      .join('\n');
  return a.decision === b.decision && agents(a) === agents(b) && edges(a) === edges(b);
}

export function planPlugin(base: PluginBase, ctx: MethodContext): MethodPlan {
  const basePlan = PLUGIN_BASES[base](ctx);
  let spec: MasSpec;
  let via: string;
  if (ctx.pluginAssigner) {
    spec = ctx.pluginAssigner(basePlan.spec, ctx);
    if (!sameTopology(spec, basePlan.spec))
      throw new Error(`plugin-${base}: the plug-in assigner changed the topology (it may only change backbones)`);
    via = spec.agents.every((a, i) => a.backbone === basePlan.spec.agents[i]?.backbone)
      ? `${base}'s own (the designer's matching predicted no gain)`
      : 'designer matching';
  } else {
    spec = greedyAssign(topologyOf(basePlan.spec), basePlan.rolePrompts, ctx).spec;
    via = 'greedy ability per predicted cost';
  }
  const pred = predictSpec(spec, basePlan.rolePrompts, ctx);
  const mix = spec.agents.map((a) => `${a.id}=${a.backbone}`).join(', ');
  return {
    spec,
    rolePrompts: basePlan.rolePrompts,
    note: `plugin-${base}: ${base} topology (${spec.agents.length} agents, ${spec.edges.length} edges), backbones by ${via}: ${mix}${pred.fits ? '' : ' (nothing fits: smallest overrun)'} (${describePrediction(pred)})`,
    predicted: planPrediction(pred),
  };
}
