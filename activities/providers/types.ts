import type { Backbone } from '../../core/pool';
import type { Task } from '../../core/task';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  system: string;
  messages: ChatMessage[];
  /** Hard cap on output tokens, already reduced by the cost ledger. */
  maxTokens: number;
  temperature: number;
  /** Which sample of an identical request this is (1 = the first); part of the response-cache key. */
  sampleIndex?: number;
  /** Aborted when Temporal cancels the activity (deadline) so the HTTP request stops. */
  signal?: AbortSignal;
  /**
   * Simulation context. Real providers ignore it; the simulated pool uses the task's answer key
   * to emit real right-or-wrong text (graded later by the real grader) and the role for lengths.
   */
  simulation?: {
    /** The benchmark item; absent for a free-form query (the simulator then answers generically). */
    task?: Task;
    role: string;
    /** Seed for this call; the same seed gives the same output. */
    seed: string;
    /** Answers of predecessor agents, for the peer effect. */
    peerTexts: string[];
    /** Real seconds waited per modelled second (0: no waiting). Default 0. */
    timeFactor?: number;
    /** Probability of an injected 429 / transient 5xx for this call. Default 0. */
    rate429?: number;
    rate5xx?: number;
  };
}

export interface ChatUsage {
  /** Billable input tokens (Anthropic: input + cache creation + cache read). */
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

export interface ChatResponse {
  text: string;
  usage: ChatUsage;
  timing: {
    /** Time to first token, when known. */
    ttftS?: number;
    /** Call duration in (model) seconds: measured for real providers, modelled for the simulated pool. */
    totalS: number;
  };
  /** True for the simulated pool: every report must say so. */
  simulated: boolean;
}

export interface Provider {
  readonly kind: Backbone['provider'];
  chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse>;
}

/** A classified provider failure. Retryable: 429 and 5xx (and network errors); not: 400/401/403/404. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** Seconds the provider asked us to wait (retry-after), when it said. */
    readonly retryAfterS?: number,
    /** Usage the provider reported for the failed attempt, when known (the ledger books it). */
    readonly usage?: ChatUsage,
  ) {
    super(message);
  }
}

/** Maps an HTTP status to retryability, as the providers and tests agree. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true; // network error, connection reset, timeout
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
