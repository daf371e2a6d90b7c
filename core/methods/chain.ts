/**
 * `chain` — the chain template of the topology literature (e.g. G-Designer's and AgentPrune's
 * baselines): three workers of the domain's roles in sequence, each seeing its predecessor's
 * answer, then the decision agent. One homogeneous backbone: the best affordable one.
 */
import { chainTopology, homogeneousPlan } from './templates';
import type { MethodContext, MethodPlan } from './types';

export function planChain(ctx: MethodContext): MethodPlan {
  return homogeneousPlan('chain', chainTopology(ctx), ctx);
}
