import { Context, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Backbone } from '../core/pool';
import { callCostUsd } from '../core/estimate';
import { CALL_FAILURE_TYPE } from '../core/mas';
import type { Task } from '../core/task';
import { maxTokensWithinCost, maxTokensWithinTime } from '../core/ledger';
import { countChatTokens } from '../core/tokens';
import { getProvider } from './providers';
import { sampleIndexOf } from './providers/sim/provider';
import { ProviderError, type ChatMessage, type ChatUsage, type Provider } from './providers/types';

export interface CallAgentInput {
  agentId: string;
  role: string;
  backbone: Backbone;
  system: string;
  messages: ChatMessage[];
  /** Output-token cap requested by the spec, before budgets lower it. */
  wantedMaxTokens: number;
  temperature: number;
  /** The ledger's reservation for this attempt: the call may not cost more. Absent: no cost budget. */
  costCapUsd?: number;
  /** Modelled seconds left before this agent's deadline. Absent: no latency budget. */
  secondsLeft?: number;
  simulation?: {
    task?: Task;
    seed: string;
    peerTexts: string[];
    timeFactor: number;
    rate429: number;
    rate5xx: number;
  };
}

export type CallAgentResult =
  | {
      status: 'ok';
      text: string;
      usage: ChatUsage;
      costUsd: number;
      latencyS: number;
      maxTokens: number;
      simulated: boolean;
    }
  | { status: 'skipped_budget' | 'skipped_deadline'; inputTokens: number; maxTokens: 0 };

/** Details carried by a failed call's ApplicationFailure, so the workflow can retry and book usage. */
export interface CallFailureDetails {
  retryable: boolean;
  status?: number;
  retryAfterS?: number;
  usage?: ChatUsage;
  costUsd: number;
}


/**
 * Real providers may count a few more input tokens than our o200k count (other tokenizers,
 * chat-template overhead), so the pre-call estimate gets a margin; the simulated pool counts with
 * the same tokenizer, so its estimate is exact.
 */
function inputTokenBound(backbone: Backbone, counted: number): number {
  return backbone.provider === 'simulated' ? counted : Math.ceil(counted * 1.1) + 16;
}

/**
 * Builds the model-call activity over a provider resolver (tests resolve to a scripted provider;
 * the product resolves to the real registry).
 */
export function makeCallAgent(resolve: (b: Backbone) => Provider): (input: CallAgentInput) => Promise<CallAgentResult> {
  return (input) => callAgentWith(resolve(input.backbone), input);
}

/** One agent's model call: caps max_tokens by the cost and time left, calls the provider, reports usage. */
export const callAgent = makeCallAgent((b) => getProvider(b.provider));

export interface CallAgentDeps {
  /** The provider serving a backbone (default: the product's registry, activities/providers). */
  resolveProvider?: (b: Backbone) => Provider;
}

/** The model-call activity (`callAgent`, on the provider queues and as a local activity of runMas). */
export function createCallAgentActivities(deps: CallAgentDeps = {}) {
  return { callAgent: deps.resolveProvider ? makeCallAgent(deps.resolveProvider) : callAgent };
}

async function callAgentWith(provider: Provider, input: CallAgentInput): Promise<CallAgentResult> {
  const ctx = Context.current();
  const b = input.backbone;
  const inputTokens = inputTokenBound(b, countChatTokens(input.system, input.messages));
  const byCost = maxTokensWithinCost(input.costCapUsd ?? Infinity, inputTokens, b.priceInPerMTok, b.priceOutPerMTok, input.wantedMaxTokens);
  if (byCost < 1) return { status: 'skipped_budget', inputTokens, maxTokens: 0 };
  const maxTokens = maxTokensWithinTime(input.secondsLeft ?? Infinity, inputTokens, b.latency, byCost);
  if (maxTokens < 1) return { status: 'skipped_deadline', inputTokens, maxTokens: 0 };

  // Heartbeats let Temporal notice a dead worker quickly and deliver cancellation to this call.
  const beat = setInterval(() => ctx.heartbeat(), 1000);
  try {
    const res = await provider.chat(b, {
      system: input.system,
      messages: input.messages,
      maxTokens,
      temperature: input.temperature,
      sampleIndex: sampleIndexOf(input.agentId),
      signal: ctx.cancellationSignal,
      ...(input.simulation ? { simulation: { ...input.simulation, role: input.role } } : {}),
    });
    return {
      status: 'ok',
      text: res.text,
      usage: res.usage,
      costUsd: callCostUsd(b, res.usage.inputTokens, res.usage.outputTokens),
      latencyS: res.timing.totalS,
      maxTokens,
      simulated: res.simulated,
    };
  } catch (err) {
    if (ctx.cancellationSignal.aborted) throw new CancelledFailure('agent call cancelled by the workflow');
    if (err instanceof ProviderError) {
      const details: CallFailureDetails = {
        retryable: err.retryable,
        ...(err.status !== undefined ? { status: err.status } : {}),
        ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}),
        ...(err.usage ? { usage: err.usage } : {}),
        costUsd: err.usage ? callCostUsd(b, err.usage.inputTokens, err.usage.outputTokens) : 0,
      };
      // The workflow owns retries (it books each attempt in the ledger), so Temporal must not retry.
      throw ApplicationFailure.create({ type: CALL_FAILURE_TYPE, message: err.message, nonRetryable: true, details: [details] });
    }
    throw err;
  } finally {
    clearInterval(beat);
  }
}
