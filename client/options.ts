import { z } from 'zod';
import { UserError } from './errors';

/**
 * Input limits, checked in the client before Temporal sees anything (Temporal rejects a payload
 * over 2 MB, and only after a long wait). Documented in the README.
 */
export const LIMITS = {
  /** A `--spec` file. */
  specFileBytes: 1024 * 1024,
  /** A `--query`, one agent's `systemPrompt`, one dataset record (line). */
  textBytes: 256 * 1024,
  /** A whole runMas input (query, task, prompts, backbones), serialised. */
  runInputBytes: 1024 * 1024,
} as const;

export const kib = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/** `maxCost` → `--max-cost`, `inject429` → `--inject-429`. */
function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`).replace(/(?<=[a-z])(\d+)/g, '-$1')}`;
}

// Plain decimal notation only: `0x1`, `1_000`, `Infinity` and the empty string are not numbers here.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal, finite number given as a flag's text. */
export const decimal = () =>
  z
    .string()
    .trim()
    .regex(DECIMAL, 'expected a decimal number')
    .transform(Number)
    .refine((v) => Number.isFinite(v), 'the number is not finite');

export const positiveDecimal = () => decimal().refine((v) => v > 0, 'must be a positive number');
export const nonNegativeDecimal = () => decimal().refine((v) => v >= 0, 'must be ≥ 0');
/** A probability in [0, 1] (fault-injection rates). */
export const rate = () => decimal().refine((v) => v >= 0 && v <= 1, 'must be a rate between 0 and 1');

/** A non-negative decimal integer (no sign, no exponent, no hex). */
export const naturalInt = () =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a non-negative decimal integer')
    .transform(Number)
    .refine((v) => Number.isSafeInteger(v), 'the number is too large');

export const positiveInt = () => naturalInt().refine((v) => v > 0, 'must be a positive integer');

/** A comma-separated list of positive decimal numbers. */
export const positiveList = () =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .refine((xs) => xs.every((x) => DECIMAL.test(x) && Number.isFinite(Number(x)) && Number(x) > 0), 'expected a comma-separated list of positive decimal numbers')
    .transform((xs) => xs.map(Number));

/** Text within the size limit. */
export const boundedText = () =>
  z
    .string()
    .refine((s) => Buffer.byteLength(s, 'utf8') <= LIMITS.textBytes, `is over the ${kib(LIMITS.textBytes)} limit`);

/**
 * Parses CLI options with `schema`; the first problem becomes one UserError line naming the flag,
 * and for an unknown enum value the allowed ones.
 */
export function parseFlags<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = issue.path[0];
  if (typeof key !== 'string') throw new UserError(issue.message);
  const flag = flagName(key);
  if (issue.code === 'invalid_value') {
    const allowed = issue.values.map(String).join(', ');
    throw new UserError(`${flag}: unknown value ${JSON.stringify(raw[key])}; allowed: ${allowed}`);
  }
  const given = raw[key];
  const shown = typeof given === 'string' && given.length <= 40 ? ` (got "${given}")` : '';
  throw new UserError(`${flag}: ${issue.message}${issue.code === 'custom' || issue.code === 'invalid_format' ? shown : ''}`);
}

/** One flag's value through a schema, outside a whole-options schema. */
export function parseFlag<S extends z.ZodType>(flag: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const shown = typeof value === 'string' && value.length <= 40 ? ` (got "${value}")` : '';
  throw new UserError(`${flag}: ${parsed.error.issues[0]!.message}${shown}`);
}
