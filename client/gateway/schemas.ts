import { z } from 'zod';

/** Text content: a string, or OpenAI's array of content parts (only text parts are accepted). */
const ContentSchema = z.union([
  z.string(),
  z.array(z.looseObject({ type: z.literal('text', { error: 'only text content parts are supported' }), text: z.string() })),
]);

const MessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: ContentSchema.nullable().optional(),
  name: z.string().optional(),
});

/** A budget: a positive, finite number (JSON `1e999` parses to Infinity and is refused too). */
const budget = (name: string) =>
  z
    .number({ error: `${name} must be a finite number` })
    .refine((v) => Number.isFinite(v), `${name} must be finite`)
    .refine((v) => v > 0, `${name} must be positive`);

/**
 * The OpenAI chat-completions request, with agentbalance's budget fields. Unknown OpenAI fields
 * (temperature, max_tokens, …) are accepted and ignored: the MAS's agents and ledger decide them.
 */
export const ChatRequestSchema = z.looseObject({
  model: z.string({ error: 'model must be a string' }).min(1, 'model must not be empty'),
  messages: z.array(MessageSchema, { error: 'messages must be an array of messages' }).min(1, 'messages must not be empty'),
  stream: z.boolean({ error: 'stream must be a boolean' }).nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  /** Token-cost budget of this request in USD (else the key's default). */
  max_cost_usd: budget('max_cost_usd').optional(),
  /** Latency budget of this request in seconds (else the key's default, else none). */
  max_latency_s: budget('max_latency_s').optional(),
  /** Seed of the simulated pool (ignored by real providers). */
  seed: z.number().int().optional(),
  user: z.string().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

export function messageText(content: z.infer<typeof ContentSchema> | null | undefined): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

/**
 * The query the MAS answers. One user message is the query itself; a conversation is rendered as a
 * transcript ending with the last message, so agents see its context.
 */
export function queryOf(req: ChatRequest): string {
  const msgs = req.messages.map((m) => ({ role: m.role, text: messageText(m.content).trim() })).filter((m) => m.text.length > 0);
  if (msgs.length === 1) return msgs[0]!.text;
  return msgs.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}: ${m.text}`).join('\n\n');
}

/** Budget headers, for clients that cannot add body fields. */
export const MAX_COST_HEADER = 'x-agentbalance-max-cost-usd';
export const MAX_LATENCY_HEADER = 'x-agentbalance-max-latency-s';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
