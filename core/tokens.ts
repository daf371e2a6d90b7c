import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';

/**
 * Token counting with the o200k_base vocabulary (GPT-4o family). Other providers tokenize a little
 * differently; callers that need a bound add a margin. Pure: the ranks ship inside the package.
 */

/**
 * Chat framing overhead, as in OpenAI's published counting recipe: every message costs its content
 * plus ~3 tokens (`<|start|>role … <|end|>`), and the reply is primed with 3 more.
 */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;

let encoder: Tiktoken | undefined;

/** Building the encoder parses ~2 MB of ranks (~0.7 s), so it happens once, on first use. */
function getEncoder(): Tiktoken {
  encoder ??= new Tiktoken(o200kBase);
  return encoder;
}

// Prompts repeat (system personas, the same question for several agents), so counts are memoised,
// within a bound on the characters held.
const CACHE_MAX_CHARS = 4_000_000;
const cache = new Map<string, number>();
let cachedChars = 0;

/** Tokens in `text`; special-token markers in user text are counted as plain text, never rejected. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const n = getEncoder().encode(text, [], []).length;
  if (cachedChars + text.length > CACHE_MAX_CHARS) {
    cache.clear();
    cachedChars = 0;
  }
  if (text.length <= CACHE_MAX_CHARS / 100) {
    cache.set(text, n);
    cachedChars += text.length;
  }
  return n;
}

/** Tokens of a chat request: system prompt (when non-empty) and messages, each with framing overhead. */
export function countChatTokens(system: string, messages: readonly { content: string }[]): number {
  let n = REPLY_PRIMING_TOKENS;
  if (system.length > 0) n += TOKENS_PER_MESSAGE + countTokens(system);
  for (const m of messages) n += TOKENS_PER_MESSAGE + countTokens(m.content);
  return n;
}

/** Token ids of `text` (for truncating generated text to a token budget). */
export function encodeTokens(text: string): number[] {
  return getEncoder().encode(text, [], []);
}

/** Text of token ids; the inverse of `encodeTokens`. */
export function decodeTokens(tokens: readonly number[]): string {
  return getEncoder().decode([...tokens]);
}
