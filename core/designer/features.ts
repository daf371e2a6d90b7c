import type { Budgets } from '../mas';
import { sigmoid } from '../estimate';
import { abilityFor, type ProfiledBackbone } from '../profiling/pool-profile';
import { standaloneCall, type AgentSlot, type PredictionContext } from './predict';
import type { BudgetScale } from './trained-designer';

/**
 * Inputs of the unified agent representation (docs/METHOD.md §2.1):
 *   node v: [emb(role); φ(profile of β(v)); emb(q); budget features; is-decision]
 *   task:   [emb(q); budget features; difficulty]
 * φ uses only profile numbers (ability vs difficulty, prices, latency model, output length, and
 * the standalone call's cost and latency relative to the budgets), never a backbone id, so an
 * unseen backbone is just another point in φ-space.
 */

const PROFILE_FEATURES = 12;
const BUDGET_FEATURES = 4;
/** Log-position used for an absent budget: beyond the top of the range. */
const ABSENT_BUDGET_Z = 1.5;

const clip = (x: number, lo = -3, hi = 3): number => Math.max(lo, Math.min(hi, x));

export function nodeInputDim(embedDim: number): number {
  return 2 * embedDim + PROFILE_FEATURES + BUDGET_FEATURES + 1;
}

export function taskInputDim(embedDim: number): number {
  return embedDim + BUDGET_FEATURES + 1;
}

/** Reference cost and latency the budget-relative features divide by. */
export function budgetRefs(budgets: Budgets, scale: BudgetScale): { costUsd: number; latencyS: number } {
  return { costUsd: budgets.maxCostUsd ?? scale.costUsd[1], latencyS: budgets.maxLatencyS ?? scale.latencyS[1] };
}

function logPosition(x: number | undefined, [lo, hi]: readonly [number, number]): number {
  if (x === undefined) return ABSENT_BUDGET_Z;
  return clip((Math.log(x) - Math.log(lo)) / Math.max(1e-9, Math.log(hi) - Math.log(lo)), -1, 2);
}

/** [log B_C position, log B_L position, has B_C, has B_L]. */
export function budgetFeatures(budgets: Budgets, scale: BudgetScale): number[] {
  return [
    logPosition(budgets.maxCostUsd, scale.costUsd),
    logPosition(budgets.maxLatencyS, scale.latencyS),
    budgets.maxCostUsd === undefined ? 0 : 1,
    budgets.maxLatencyS === undefined ? 0 : 1,
  ];
}

/** φ(profile of b) for one agent slot, in the context of the query and budgets. */
export function profileFeatures(
  b: ProfiledBackbone,
  slot: AgentSlot,
  ctx: PredictionContext,
  refs: { costUsd: number; latencyS: number },
): number[] {
  const theta = abilityFor(b, ctx.domain);
  const call = standaloneCall(b, slot, ctx);
  return [
    clip((theta - ctx.difficulty) / 3),
    sigmoid(theta - ctx.difficulty),
    Math.log(b.priceInPerMTok + 0.01) / 5,
    Math.log(b.priceOutPerMTok + 0.01) / 5,
    clip(Math.log(call.costUsd / refs.costUsd) / 3),
    clip(Math.log(call.latencyS / refs.latencyS) / 3),
    Math.log(b.latency.ttftS + 0.01) / 3,
    Math.log(b.latency.prefillTps) / 10,
    Math.log(b.latency.decodeTps) / 5,
    Math.log(call.nOut) / 7,
    b.reasoning ? 1 : 0,
    clip(theta / 3),
  ];
}

export function nodeInput(
  roleEmb: readonly number[],
  phi: readonly number[],
  queryEmb: readonly number[],
  budgetFeats: readonly number[],
  isDecision: boolean,
): number[] {
  return [...roleEmb, ...phi, ...queryEmb, ...budgetFeats, isDecision ? 1 : 0];
}

export function taskInput(queryEmb: readonly number[], budgetFeats: readonly number[], difficulty: number): number[] {
  return [...queryEmb, ...budgetFeats, clip(difficulty / 2)];
}
