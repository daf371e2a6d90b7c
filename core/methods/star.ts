/**
 * `star` — the star template: three workers answer in parallel and the decision agent, the hub,
 * reads all of them (the usual "star" has the hub also brief the workers first; here it only
 * aggregates, which keeps the critical path at two calls). One homogeneous backbone: the best
 * affordable one.
 */
import { homogeneousPlan, starTopology } from './templates';
import type { MethodContext, MethodPlan } from './types';

export function planStar(ctx: MethodContext): MethodPlan {
  return homogeneousPlan('star', starTopology(ctx), ctx);
}
