import OpenAI from 'openai';
import { z } from 'zod';
import type { Backbone } from '../../core/pool';
import { countChatTokens, countTokens } from '../../core/tokens';
import { firstIssue, malformedResponse, toProviderError, type SdkFailure } from './errors';
import { readApiKey, type Env } from './keys';
import type { ChatRequest, ChatResponse, Provider } from './types';

export interface RealProviderOptions {
  /** Where API keys are read from, at call time. Default: process.env. */
  env?: Env;
  /** Per-request HTTP timeout in milliseconds. Default: 10 minutes. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

// Only what we use is checked; everything else in the body may vary between compatible servers.
const ChatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      prompt_tokens_details: z.object({ cached_tokens: z.number().int().nonnegative().nullish() }).nullish(),
    })
    .nullish(),
});

function sdkFailure(err: unknown): SdkFailure | undefined {
  if (err instanceof OpenAI.APIUserAbortError) return { kind: 'abort' };
  if (err instanceof OpenAI.APIConnectionError) return { kind: 'connection', message: err.message };
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    return { kind: 'http', status: err.status, headers: err.headers, message: err.message };
  }
  return undefined;
}

/**
 * OpenAI chat completions, also for OpenAI-compatible servers (vLLM, Together, DeepSeek, …) via
 * `baseUrl`. Retries are off: the workflow retries, booking each attempt in the cost ledger.
 */
export class OpenAIProvider implements Provider {
  readonly kind = 'openai' as const;

  constructor(private readonly options: RealProviderOptions = {}) {}

  async chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse> {
    const label = `openai ${backbone.id}`;
    const apiKey = readApiKey(backbone, this.options.env ?? process.env);
    const client = new OpenAI({
      apiKey,
      ...(backbone.baseUrl ? { baseURL: backbone.baseUrl } : {}),
      maxRetries: 0,
      timeout: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    // The official API wants max_completion_tokens (reasoning models reject max_tokens); compatible
    // servers widely accept only max_tokens. Reasoning models also reject a temperature.
    const official = backbone.baseUrl === undefined;
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: backbone.model,
      messages: [
        ...(req.system ? [{ role: 'system' as const, content: req.system }] : []),
        ...req.messages.map((m) => ({ role: m.role, content: m.content })),
      ],
      ...(official ? { max_completion_tokens: req.maxTokens } : { max_tokens: req.maxTokens }),
      ...(backbone.reasoning ? {} : { temperature: req.temperature }),
    };
    const started = performance.now();
    let raw: unknown;
    try {
      raw = await client.chat.completions.create(body, { signal: req.signal, maxRetries: 0 });
    } catch (err) {
      const failure = sdkFailure(err);
      if (!failure) throw err;
      throw toProviderError(failure, { label, secrets: [apiKey], signal: req.signal });
    }
    const totalS = (performance.now() - started) / 1000;
    const parsed = ChatCompletionSchema.safeParse(raw);
    if (!parsed.success) throw malformedResponse(label, firstIssue(parsed.error.issues));
    const choice = parsed.data.choices[0];
    const text = choice?.message.content ?? choice?.message.refusal ?? '';
    const usage = parsed.data.usage;
    const cached = usage?.prompt_tokens_details?.cached_tokens ?? undefined;
    return {
      text,
      usage: usage
        ? {
            inputTokens: usage.prompt_tokens,
            outputTokens: usage.completion_tokens,
            ...(cached ? { cachedInputTokens: cached } : {}),
          }
        : // Some compatible servers omit usage: count with our tokenizer rather than book nothing.
          { inputTokens: countChatTokens(req.system, req.messages), outputTokens: countTokens(text) },
      timing: { totalS },
      simulated: false,
    };
  }
}
