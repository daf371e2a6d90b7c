/**
 * `layered` — the full layered graph: two layers of three workers, every layer-1 agent sends to
 * every layer-2 agent, and layer 2 sends to the decision agent. One homogeneous backbone: the best
 * affordable one.
 */
import { homogeneousPlan, layeredTopology } from './templates';
import type { MethodContext, MethodPlan } from './types';

export function planLayered(ctx: MethodContext): MethodPlan {
  return homogeneousPlan('layered', layeredTopology(ctx), ctx);
}
