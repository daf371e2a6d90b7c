import type { Domain } from './domain';
import { orchestrationHopS } from './orchestration';
import type { LatencyModel } from './pool';

/**
 * The one model of a model call's size, cost, latency and success that every planner shares: the
 * designer (core/designer), the baselines (core/methods), the workflow's budget planning
 * (core/run-plan.ts) and the simulated pool (activities/providers/sim/provider.ts). Keeping it in one
 * place keeps what the planners predict and what the engine does from drifting apart.
 *
 * Token counts: exact counts come from the tokenizer (core/tokens.ts), injected as a
 * `TokenCounter` where prompts are known. This module does not import it, because it is also part
 * of the workflow bundle, which must not carry the tokenizer's ranks (about 2 MB); the two
 * tokenizer-free figures below say what they are for.
 */

export type TokenCounter = (text: string) => number;

/** Chat-format tokens per call beyond system prompt and query (role tags, separators, "Question:"). */
export const CALL_OVERHEAD_TOKENS = 12;
/** Tokens framing each predecessor message ("[agent (role)]" and the section header). */
export const MESSAGE_OVERHEAD_TOKENS = 8;

/** Tokens per whitespace-separated word of English prose: the planners' count when no tokenizer is injected. */
const TOKENS_PER_WORD = 1.3;

function wordCount(text: string): number {
  const m = text.match(/\S+/g);
  return m ? m.length : 0;
}

/** Tokenizer-free estimate of a text's tokens (1.3 per word). */
export const wordTokenEstimate: TokenCounter = (text) => TOKENS_PER_WORD * wordCount(text);

/**
 * An upper-leaning token figure (about 3 characters per token, plus 4) for dividing a budget
 * between calls before they start, inside the workflow; the activity then counts exact tokens
 * with the tokenizer and caps the call by what it reserved.
 */
export function tokenUpperBound(text: string): number {
  return Math.ceil(text.length / 3) + 4;
}

/**
 * Output tokens assumed for a backbone without a length profile: the simulated pool's own means
 * (reasoning models are verbose, most of it hidden reasoning), so predictions match the engine.
 */
export const DEFAULT_OUTPUT_TOKENS = { standard: 250, reasoning: 1500 } as const;

/**
 * The output cap a call asks for: about 3× the backbone's mean output in the domain, within
 * [256, 8192]; 1024 without a mean. (The activity lowers it further to fit the cost and time left.)
 */
export function maxOutputTokens(mean: number | undefined): number {
  return mean !== undefined ? Math.min(8192, Math.max(256, Math.ceil(3 * mean))) : 1024;
}

/** What the output-length model reads of a backbone (a pool-file backbone's profile or a fitted one). */
export interface OutputLengthProfile {
  reasoning?: boolean | undefined;
  meanOutputTokens?: Partial<Record<Domain, number>> | undefined;
}

/**
 * Mean output tokens of a call in `domain`: the profile's figure; else its mean over the other
 * domains (all of them when `domain` is undefined); else DEFAULT_OUTPUT_TOKENS.
 */
export function meanOutputTokens(b: OutputLengthProfile, domain: Domain | undefined): number {
  const table = b.meanOutputTokens ?? {};
  const own = domain !== undefined ? table[domain] : undefined;
  if (own !== undefined) return own;
  const vals = Object.values(table).filter((v): v is number => typeof v === 'number');
  if (vals.length) return vals.reduce((s, v) => s + v, 0) / vals.length;
  return b.reasoning ? DEFAULT_OUTPUT_TOKENS.reasoning : DEFAULT_OUTPUT_TOKENS.standard;
}

/**
 * Input tokens of one agent's call: its system prompt and the query, the call overhead, and each
 * predecessor's output with its framing.
 */
export function agentInputTokens(systemTokens: number, queryTokens: number, predecessorOutputs: Iterable<number> = []): number {
  let n = systemTokens + queryTokens + CALL_OVERHEAD_TOKENS;
  for (const out of predecessorOutputs) n += out + MESSAGE_OVERHEAD_TOKENS;
  return n;
}

/** USD of a call: prices are per million tokens. */
export function callCostUsd(b: { priceInPerMTok: number; priceOutPerMTok: number }, inTok: number, outTok: number): number {
  return (inTok * b.priceInPerMTok + outTok * b.priceOutPerMTok) / 1e6;
}

/** Modelled seconds of a call: ttft + n_in/prefill_tps + n_out/decode_tps. */
export function callLatencyS(lat: LatencyModel, inTok: number, outTok: number): number {
  return lat.ttftS + inTok / lat.prefillTps + outTok / lat.decodeTps;
}

export interface PricedBackbone {
  priceInPerMTok: number;
  priceOutPerMTok: number;
  latency: LatencyModel;
  provider?: string | undefined;
}

/**
 * Predicted cost and latency of one call as a planner sees it: the modelled call plus, for a
 * real-time backbone, the orchestration Temporal adds per hop (core/orchestration.ts).
 */
export function predictCall(b: PricedBackbone, nIn: number, nOut: number): { costUsd: number; latencyS: number } {
  return { costUsd: callCostUsd(b, nIn, nOut), latencyS: callLatencyS(b.latency, nIn, nOut) + orchestrationHopS(b.provider) };
}

/** One agent's predicted call inside a MAS: tokens, cost, latency, and when it finishes (critical path). */
export interface AgentPrediction {
  nIn: number;
  nOut: number;
  costUsd: number;
  latencyS: number;
  finishS: number;
}

/**
 * The logistic link of the accuracy model, P(correct) = σ(θ − b) (IRT; the simulated pool draws
 * with it). This form never evaluates exp of a large positive number.
 */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}
