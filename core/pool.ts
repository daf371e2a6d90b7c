import { z } from 'zod';
import { BenchmarkIdSchema, DomainSchema } from './domain';

/**
 * A backbone pool file (versioned). Prices are USD per 1M tokens; the latency model gives a call's
 * duration as ttft + n_in/prefill_tps + n_out/decode_tps (docs/METHOD.md §0).
 */
export const LatencyModelSchema = z.object({
  ttftS: z.number().nonnegative(),
  prefillTps: z.number().positive(),
  decodeTps: z.number().positive(),
});
export type LatencyModel = z.infer<typeof LatencyModelSchema>;

export const ProviderKindSchema = z.enum(['openai', 'anthropic', 'simulated']);
export type ProviderKind = z.infer<typeof ProviderKindSchema>;

/** Profile filled by profiling (or, for the simulated pool, by its cited public scores). */
const BackboneProfileSchema = z.object({
  /** Ability per domain on the IRT logit scale (θ_{m,d}). */
  ability: z.partialRecord(DomainSchema, z.number()),
  /** Mean output tokens per call, per domain. */
  meanOutputTokens: z.partialRecord(DomainSchema, z.number().positive()),
});

/** A public benchmark score (accuracy in [0, 1]); `derived` marks an estimate where no public figure exists. */
const CitedScoreSchema = z
  .object({
    value: z.number().min(0).max(1),
    derived: z.boolean().default(false),
    /** Key into the pool file's `sources`. */
    source: z.string().optional(),
    /** How the figure was obtained (metric variant, or the derivation rule). */
    note: z.string().optional(),
  })
  .strict();

export const BackboneSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase id: letters, digits, . _ -'),
  provider: ProviderKindSchema,
  /** Model id sent to the provider. */
  model: z.string().min(1),
  /** OpenAI-compatible or Anthropic base URL; omitted means the provider's default. */
  baseUrl: z.string().url().optional(),
  /** Environment variable holding the API key (read only inside activities). */
  apiKeyEnv: z.string().optional(),
  /** The endpoint takes no API key (a model server on this machine): no variable is read or required. */
  noApiKey: z.boolean().optional(),
  /** Calls in flight to this backbone while profiling (default 1 for an endpoint on this machine). */
  maxConcurrency: z.number().int().positive().optional(),
  priceInPerMTok: z.number().nonnegative(),
  priceOutPerMTok: z.number().nonnegative(),
  latency: LatencyModelSchema,
  contextWindow: z.number().int().positive(),
  /** Reasoning-style backbones are slower, more verbose and more accurate. */
  reasoning: z.boolean().default(false),
  profile: BackboneProfileSchema.optional(),
  /** Public accuracy per benchmark; the simulated pool is calibrated to reproduce it. */
  citedAccuracy: z.partialRecord(BenchmarkIdSchema, CitedScoreSchema).optional(),
  /** Keys of the pool file's `sources` behind this backbone's prices, latencies and scores. */
  sources: z.array(z.string()).optional(),
});
export type Backbone = z.infer<typeof BackboneSchema>;

/** Profiling calls in flight overall by default (endpoints on this machine get 1 per backbone). */
export const DEFAULT_PROFILE_CONCURRENCY = 16;

