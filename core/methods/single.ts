/**
 * `single:<backboneId>` — every backbone alone (docs/METHOD.md §4: "every single backbone
 * alone"). One agent, which is the decision agent, with the decision role's prompt. It does not
 * adapt to the budget: the engine's ledger and deadline enforce it.
 */
import type { MethodContext, MethodPlan } from './types';
import { describePrediction, planPrediction, predictSpec, rolePromptsFor, assignAll, type Topology } from './util';

export function planSingle(backboneId: string, ctx: MethodContext): MethodPlan {
  if (!ctx.backbones.some((b) => b.id === backboneId)) {
    throw new Error(
      `single:${backboneId}: backbone "${backboneId}" is not in the pool (${ctx.backbones.map((b) => b.id).join(', ')})`,
    );
  }
  const top: Topology = { agents: [{ id: 'decision', role: ctx.decisionRole.id }], edges: [], decision: 'decision' };
  const rolePrompts = rolePromptsFor(top, ctx);
  const spec = assignAll(top, backboneId);
  const pred = predictSpec(spec, rolePrompts, ctx);
  return {
    spec,
    rolePrompts,
    note: `single agent on ${backboneId} (${describePrediction(pred)})`,
    predicted: planPrediction(pred),
  };
}
