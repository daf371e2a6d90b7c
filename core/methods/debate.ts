/**
 * `debate` — multi-agent debate (Du et al., 2023): three debaters answer, then in round 2 each
 * debater sees all round-1 answers (its own included) and revises, and a judge (the decision agent)
 * gives the final answer from the round-2 answers. The original takes a majority over the last
 * round; here a judge agent does it, so the final answer comes out of one call as in every method.
 * One homogeneous backbone: the best affordable one.
 */
import { debateTopology, homogeneousPlan } from './templates';
import type { MethodContext, MethodPlan } from './types';

export function planDebate(ctx: MethodContext): MethodPlan {
  return homogeneousPlan('debate', debateTopology(ctx, 3), ctx);
}
