import { ProviderError, isRetryableStatus, type ChatUsage } from './types';
import { abortError } from './abort';

/** SDK failures, normalised so both providers classify them the same way. */
export type SdkFailure =
  | { kind: 'abort' }
  | { kind: 'connection'; message: string }
  | { kind: 'http'; status: number; headers?: Headers; message: string };

const MAX_MESSAGE = 300;

/** Removes key values and key-like tokens (providers echo partial keys in 401 bodies). */
function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out.replace(/\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_*\-]{6,}/g, '$1[redacted]');
}

/**
 * Seconds the server asked us to wait: `retry-after-ms` (OpenAI/Anthropic extension) wins over
 * `retry-after`, which is either delay-seconds or an HTTP date.
 */
export function parseRetryAfter(headers: Headers | undefined, nowMs: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v / 1000;
  }
  const ra = headers.get('retry-after');
  if (ra === null || ra.trim() === '') return undefined;
  const secs = Number(ra);
  if (Number.isFinite(secs) && secs >= 0) return secs;
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, (date - nowMs) / 1000);
  return undefined;
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > MAX_MESSAGE ? `${one.slice(0, MAX_MESSAGE - 1)}…` : one;
}

/** The error a provider call rejects with, for a failure its SDK reported. */
export function toProviderError(
  failure: SdkFailure,
  ctx: { label: string; secrets: readonly string[]; signal?: AbortSignal | undefined; usage?: ChatUsage },
): Error {
  if (failure.kind === 'abort' || ctx.signal?.aborted)
    return ctx.signal ? abortError(ctx.signal) : new ProviderError(`${ctx.label}: request aborted`, false);
  const msg = shorten(redactSecrets(failure.message, ctx.secrets));
  if (failure.kind === 'connection') return new ProviderError(`${ctx.label}: network error: ${msg}`, true);
  const retryable = isRetryableStatus(failure.status);
  return new ProviderError(
    `${ctx.label}: HTTP ${failure.status}: ${msg}`,
    retryable,
    failure.status,
    retryable ? parseRetryAfter(failure.headers) : undefined,
    ctx.usage,
  );
}

/** A response that does not match the wire format: not retryable (the same request would fail again). */
export function malformedResponse(label: string, reason: string): ProviderError {
  return new ProviderError(`${label}: malformed response: ${shorten(reason)}`, false);
}

/** One short line from a zod error: the first issue's path and message. */
export function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const i = issues[0];
  if (!i) return 'invalid';
  const path = i.path.map(String).join('.');
  return path ? `${path}: ${i.message}` : i.message;
}
