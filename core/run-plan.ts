/**
 * The pure planning of one MAS run (workflows/run-mas.ts executes it): what each call may ask for,
 * its worst-case cost, the deadlines, how failures are retried, and how the run's outcome is read
 * from its agents' traces. No Temporal, no I/O: the workflow and the tests share it.
 */
import type { DagIndex } from './dag';
import { callCostUsd, callLatencyS, maxOutputTokens, tokenUpperBound } from './estimate';
import type { Domain } from './domain';
import type { AgentStatus, AgentTrace, Budgets, MasAgent, MasSpec } from './mas';
import { HOPS_AFTER_SOFT_DEADLINE, ORCHESTRATION_HOP_S } from './orchestration';
import type { Backbone } from './pool';

/** Attempts per agent call (first try included); only 429/5xx/timeouts are retried. */
export const MAX_ATTEMPTS = 4;
/** Real seconds granted past the latency budget for cancellation to land before the fallback answer. */
export const HARD_DEADLINE_GRACE_S = 0.25;
/**
 * Real seconds set aside after the soft deadline for the orchestration the decision agent still
 * needs (timer, dispatch, result): the measured per-hop overhead at its 99th percentile (#17).
 */
export const ORCHESTRATION_RESERVE_REAL_S = HOPS_AFTER_SOFT_DEADLINE * ORCHESTRATION_HOP_S.p99;
/** Tokens assumed per predecessor message, and for a modest answer, when reserving the decision agent's time. */
const DECISION_RESERVE_MESSAGE_TOKENS = 64;
const DECISION_RESERVE_OUTPUT_TOKENS = 128;

export interface RunPlanInput {
  spec: MasSpec;
  backbones: ReadonlyMap<string, Backbone>;
  rolePrompts: Readonly<Record<string, string>>;
  query: string;
  domain?: Domain | undefined;
  budgets: Budgets;
  /** Real seconds the simulated pool waits per simulated second (0: no waiting). */
  timeFactor?: number | undefined;
}

export interface RunPlan {
  /** System prompt of each agent. */
  persona: ReadonlyMap<string, string>;
  /** Output tokens each call asks for (the activity lowers it to fit the cost and time left). */
  wantedMaxTokens: ReadonlyMap<string, number>;
  /** Worst-case cost of each call, to divide the budget fairly between calls not yet made. */
  worstCaseUsd: ReadonlyMap<string, number>;
  /** Some agent runs on the simulated pool (its calls carry simulation options). */
  simulated: boolean;
  /**
   * Real seconds per modelled second: real providers run in real time; the simulated pool waits
   * timeFactor real seconds per simulated second (0: no waiting, deadlines use the modelled clock).
   */
  scale: number;
  /** Modelled second by which every agent but the decision agent must be done. */
  softDeadlineS: number;
  /** Modelled second by which the decision agent must be done: the latency budget. */
  hardDeadlineS: number;
  /** Real-time enforcement: after how many real ms to cancel the other agents' and the decision agent's calls. */
  cancelAfterMs?: { others: number; decision: number };
}

/** Output tokens an agent asks for: its own cap, else about 3× its backbone's mean in the domain. */
function wantedMaxTokensOf(a: MasAgent, b: Backbone, domain: Domain | undefined): number {
  if (a.maxTokens !== undefined) return a.maxTokens;
  return maxOutputTokens(domain ? b.profile?.meanOutputTokens[domain] : undefined);
}

export function planRun(input: RunPlanInput, index: DagIndex): RunPlan {
  const { spec, budgets } = input;
  const bb = (a: MasAgent): Backbone => input.backbones.get(a.backbone)!;
  const persona = new Map(spec.agents.map((a) => [a.id, a.systemPrompt ?? input.rolePrompts[a.role]!]));
  const wanted = new Map(spec.agents.map((a) => [a.id, wantedMaxTokensOf(a, bb(a), input.domain)]));

  const worstCaseUsd = new Map<string, number>();
  for (const a of spec.agents) {
    const inTok =
      tokenUpperBound(persona.get(a.id)! + input.query) + index.preds.get(a.id)!.reduce((s, p) => s + wanted.get(p)!, 0);
    worstCaseUsd.set(a.id, callCostUsd(bb(a), inTok, wanted.get(a.id)!));
  }

  const simulated = spec.agents.some((a) => bb(a).provider === 'simulated');
  const realProvider = spec.agents.some((a) => bb(a).provider !== 'simulated');
  const scale = realProvider ? 1 : (input.timeFactor ?? 0);

  // The decision agent needs time to answer, so other agents must be done by a soft deadline that
  // leaves it its predicted latency on a modest answer.
  const latencyBudget = budgets.maxLatencyS;
  const decision = spec.agents.find((a) => a.id === spec.decision)!;
  const decisionReserveS = callLatencyS(
    bb(decision).latency,
    tokenUpperBound(persona.get(decision.id)! + input.query) + DECISION_RESERVE_MESSAGE_TOKENS * index.preds.get(spec.decision)!.length,
    Math.min(DECISION_RESERVE_OUTPUT_TOKENS, wanted.get(decision.id)!),
  );
  // In real time, scheduling the decision call through Temporal also takes a little wall time.
  const orchestrationReserveS = scale > 0 ? ORCHESTRATION_RESERVE_REAL_S / scale : 0;
  const softDeadlineS =
    latencyBudget === undefined ? Infinity : Math.max(0, latencyBudget - decisionReserveS - orchestrationReserveS);
  const hardDeadlineS = latencyBudget ?? Infinity;

  return {
    persona,
    wantedMaxTokens: wanted,
    worstCaseUsd,
    simulated,
    scale,
    softDeadlineS,
    hardDeadlineS,
    ...(latencyBudget !== undefined && scale > 0
      ? {
          cancelAfterMs: {
            others: Math.max(1, softDeadlineS * scale * 1000),
            decision: Math.max(1, (hardDeadlineS * scale + HARD_DEADLINE_GRACE_S) * 1000),
          },
        }
      : {}),
  };
}

/** A failed call attempt as the workflow sees it (workflows/run-mas.ts `describeFailure`). */
export interface CallFailure {
  message: string;
  retryable: boolean;
  retryAfterS?: number;
  costUsd: number;
}

/** `past_deadline`: the wait would reach the deadline (the agent's clock still moves by `waitS`). */
export type RetryDecision = { kind: 'give_up' } | { kind: 'past_deadline' | 'retry'; waitS: number };

/**
 * The one retry policy of agent calls: give up on a non-retryable failure or the last attempt;
 * otherwise wait the provider's retry-after, else back off exponentially from 1 s, unless that
 * wait would reach the deadline.
 */
export function retryDecision(failure: CallFailure, attempt: number, clockS: number, deadlineS: number): RetryDecision {
  if (!failure.retryable || attempt >= MAX_ATTEMPTS) return { kind: 'give_up' };
  const waitS = failure.retryAfterS ?? 2 ** (attempt - 1);
  return { kind: clockS + waitS >= deadlineS ? 'past_deadline' : 'retry', waitS };
}

/** A new agent's trace, starting when its last predecessor settled. */
export function newTrace(a: MasAgent, startS: number): AgentTrace {
  return {
    id: a.id,
    role: a.role,
    backbone: a.backbone,
    status: 'ok',
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    latencyS: 0,
    startS,
    finishS: startS,
    maxTokens: 0,
    attempts: 0,
  };
}

const DEADLINE_STATUSES: ReadonlySet<AgentStatus> = new Set(['skipped_deadline', 'cancelled_deadline']);

/** Whether a deadline or the cost budget stopped any agent. */
export function runFlags(traces: readonly AgentTrace[]): { deadlineHit: boolean; budgetExhausted: boolean } {
  return {
    deadlineHit: traces.some((t) => DEADLINE_STATUSES.has(t.status)),
    budgetExhausted: traces.some((t) => t.status === 'skipped_budget'),
  };
}

/** The answer is available when the last call settles, or at the deadline if the run gave up waiting. */
export function runLatencyS(traces: readonly AgentTrace[], hardDeadlineS: number): number {
  return Math.min(hardDeadlineS, Math.max(...traces.map((t) => t.finishS)));
}

/**
 * The fallback when the decision agent could not answer in time: the answer of the agent that
 * finished in time on the strongest backbone in the domain (ties: the later one).
 */
export function fallbackAnswer(
  finished: readonly { trace: AgentTrace; usable: boolean }[],
  backbones: ReadonlyMap<string, Backbone>,
  domain: Domain | undefined,
): string {
  const usable = finished.filter((s) => s.usable && s.trace.text);
  if (usable.length === 0) return '';
  const ability = (s: { trace: AgentTrace }): number => {
    const p = backbones.get(s.trace.backbone)?.profile?.ability;
    return domain && p ? (p[domain] ?? 0) : 0;
  };
  usable.sort((x, y) => ability(y) - ability(x) || y.trace.finishS - x.trace.finishS);
  return usable[0]!.trace.text!;
}
