/**
 * `cot-sc` — chain-of-thought with self-consistency (Wang et al., 2023): k = 5 independent CoT
 * samples of one backbone. Differs from the original: the majority vote is not computed in code but
 * by an aggregator agent (the decision agent) that receives the five solutions, so the vote costs
 * one more call and is subject to the same budgets. One homogeneous backbone: the best affordable.
 */
import { cotScTopology, homogeneousPlan } from './templates';
import type { MethodContext, MethodPlan } from './types';

const COT_SC_SAMPLES = 5;

export function planCotSc(ctx: MethodContext): MethodPlan {
  const plan = homogeneousPlan('cot-sc', cotScTopology(ctx, COT_SC_SAMPLES), ctx);
  return { ...plan, note: `${plan.note}; the vote is taken by the aggregator agent` };
}
