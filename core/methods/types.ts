import type { TokenCounter } from '../estimate';
import type { Budgets, MasSpec } from '../mas';
import type { Backbone } from '../pool';
import type { Task } from '../task';

/** A persona: role id (as referenced by `MasAgent.role`) and its system prompt. */
export interface RolePrompt {
  id: string;
  prompt: string;
}

/**
 * Everything a method needs to plan one query. Pure data (plus optional hooks the lead wires):
 * nothing here does I/O, so planning is deterministic in (task, budgets, backbones, roles, seed).
 */
export interface MethodContext {
  task: Task;
  budgets: Budgets;
  /** The pool's backbones (prices, latency model, `profile.ability` / `profile.meanOutputTokens`). */
  backbones: readonly Backbone[];
  /** Worker roles of the task's domain (core/roles); may be empty (workers then use the decision role). */
  roles: readonly RolePrompt[];
  /** The decision role: the agent that produces the final answer. */
  decisionRole: RolePrompt;
  /** Seed string for every random choice a method makes (ties, jitter). */
  seed: string;
  /**
   * Predicted IRT difficulty b̂(q) of the query (the designer's regressor), when known. Methods that
   * weigh abilities use σ(θ − b̂); absent, b̂ defaults to the pool's mean ability in the domain.
   */
  difficulty?: number;
  /**
   * Token counter for prompts and the question (the tokenizer, core/tokens.ts, where the caller has
   * it); absent, 1.3 tokens per word (core/estimate.ts). Injected because core/methods is also part
   * of the workflow bundle, which must not carry the tokenizer.
   */
  countTokens?: TokenCounter;
  /** The `agentbalance` method: the trained designer (activities/designer-service.ts `designerPlanner`). */
  designer?: (ctx: MethodContext) => MethodPlan;
  /**
   * Backbone (re)assignment used by the `plugin-*` variants. activities/campaign.ts wires the designer's
   * query-conditioned matching here (core/designer/matching.ts + HiGHS); absent, a greedy
   * ability-per-predicted-cost assignment with an exact budget check is used (methods/plugin.ts).
   */
  pluginAssigner?: (spec: MasSpec, ctx: MethodContext) => MasSpec;
}

/** Cost and latency of a plan as the methods predict them (core/methods/util.ts `predictSpec`). */
export interface PlanPrediction {
  costUsd: number;
  latencyS: number;
  /** Both budgets hold for the prediction. */
  fits: boolean;
}

/**
 * A FrugalGPT-style cascade. Stage i runs `samples[i]` independent copies of `stages[i]` in
 * parallel. When `samples[i] >= 2` and all copies give the same answer (answers compared after the
 * benchmark grader's normalisation — the extracted number / letter / code), that answer is
 * accepted and the cascade stops; otherwise the next stage runs. A stage with `samples[i] == 1`
 * (always the last) is accepted unconditionally.
 */
interface CascadePlan {
  stages: MasSpec[];
  samples: number[];
  rule: 'two-samples-agree';
}

export interface MethodPlan {
  spec: MasSpec;
  /** Persona prompt per role id used in `spec` (and in every cascade stage). */
  rolePrompts: Record<string, string>;
  note?: string;
  /** Present for `cascade` only; `spec` is then the first stage. */
  cascade?: CascadePlan;
  /** What the method predicted for the plan (worst case for a cascade). */
  predicted?: PlanPrediction;
}

export type MethodPlanner = (ctx: MethodContext) => MethodPlan;
