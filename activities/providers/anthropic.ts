import Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import type { Backbone } from '../../core/pool';
import { firstIssue, malformedResponse, toProviderError, type SdkFailure } from './errors';
import { readApiKey } from './keys';
import { DEFAULT_TIMEOUT_MS, type RealProviderOptions } from './openai';
import type { ChatRequest, ChatResponse, Provider } from './types';

const MessageSchema = z.object({
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullish(),
  usage: z.object({
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
    cache_read_input_tokens: z.number().int().nonnegative().nullish(),
  }),
});

function sdkFailure(err: unknown): SdkFailure | undefined {
  if (err instanceof Anthropic.APIUserAbortError) return { kind: 'abort' };
  if (err instanceof Anthropic.APIConnectionError) return { kind: 'connection', message: err.message };
  if (err instanceof Anthropic.APIError && typeof err.status === 'number') {
    return { kind: 'http', status: err.status, headers: err.headers, message: err.message };
  }
  return undefined;
}

/** Anthropic Messages API. Retries are off: the workflow retries, booking each attempt. */
export class AnthropicProvider implements Provider {
  readonly kind = 'anthropic' as const;

  constructor(private readonly options: RealProviderOptions = {}) {}

  async chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse> {
    const label = `anthropic ${backbone.id}`;
    const apiKey = readApiKey(backbone, this.options.env ?? process.env);
    // An explicit timeout also stops the SDK refusing large non-streaming max_tokens up front.
    const client = new Anthropic({
      apiKey,
      ...(backbone.baseUrl ? { baseURL: backbone.baseUrl } : {}),
      maxRetries: 0,
      timeout: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const started = performance.now();
    let raw: unknown;
    try {
      raw = await client.messages.create(
        {
          model: backbone.model,
          max_tokens: req.maxTokens,
          messages: req.messages.map((m) => ({ role: m.role, content: m.content })),
          // No temperature: the Messages API of this SDK generation no longer takes one.
          ...(req.system ? { system: req.system } : {}),
        },
        { signal: req.signal, maxRetries: 0 },
      );
    } catch (err) {
      const failure = sdkFailure(err);
      if (!failure) throw err;
      throw toProviderError(failure, { label, secrets: [apiKey], signal: req.signal });
    }
    const totalS = (performance.now() - started) / 1000;
    const parsed = MessageSchema.safeParse(raw);
    if (!parsed.success) throw malformedResponse(label, firstIssue(parsed.error.issues));
    const { content, usage } = parsed.data;
    const text = content
      .filter((b) => b.type === 'text')
      .map((b) => b.text ?? '')
      .join('');
    const cacheWrite = usage.cache_creation_input_tokens ?? 0;
    const cacheRead = usage.cache_read_input_tokens ?? 0;
    return {
      text,
      usage: {
        // Anthropic reports uncached, cache-written and cache-read input separately; all are billed input.
        inputTokens: usage.input_tokens + cacheWrite + cacheRead,
        outputTokens: usage.output_tokens,
        ...(cacheRead > 0 ? { cachedInputTokens: cacheRead } : {}),
      },
      timing: { totalS },
      simulated: false,
    };
  }
}
