import { z } from 'zod';
import { DomainSchema, type Domain } from '../domain';
import { LatencyModelSchema, ProviderKindSchema, type Backbone } from '../pool';
import { canonicalJson, sha256Hex } from '../designer/hash';
import { linearPredict } from './regression';
import { DEFAULT_QUERY_FEATURES, QUERY_FEATURES_VERSION, queryFeatureDim, queryFeatures } from '../designer/query-features';

/**
 * The versioned PoolProfile artifact (docs/METHOD.md §1.1): everything the designer knows about
 * the pool. Backbones enter the designer only through these numbers, so a new backbone needs a
 * profile, never retraining. `profileHash` is a SHA-256 of the canonical JSON of the rest.
 */
export const POOL_PROFILE_KIND = 'agentbalance.pool-profile';
export const POOL_PROFILE_VERSION = 1;

const ProfiledBackboneSchema = z
  .object({
    id: z.string().min(1),
    provider: ProviderKindSchema.optional(),
    priceInPerMTok: z.number().nonnegative(),
    priceOutPerMTok: z.number().nonnegative(),
    /** Fitted from profiling observations, or copied from the pool file. */
    latency: LatencyModelSchema,
    latencyFit: z.object({ n: z.number().int().nonnegative(), rmseS: z.number().nonnegative() }).optional(),
    contextWindow: z.number().int().positive(),
    reasoning: z.boolean(),
    /** θ_{m,d} on the IRT logit scale. */
    ability: z.partialRecord(DomainSchema, z.number()),
    meanOutputTokens: z.partialRecord(DomainSchema, z.number().positive()),
    /**
     * Measured mean output tokens per role id (e.g. `decision`) and domain, for the roles profiling
     * ran; a role listed here is predicted from its own measurements, every other role from
     * `meanOutputTokens`.
     */
    roleOutputTokens: z.record(z.string().min(1), z.partialRecord(DomainSchema, z.number().positive())).optional(),
  })
  .strict();
export type ProfiledBackbone = z.infer<typeof ProfiledBackboneSchema>;

const ItemDifficultySchema = z
  .object({ id: z.string().min(1), domain: DomainSchema, b: z.number(), a: z.number().positive().default(1) })
  .strict();

const DifficultyRegressorSchema = z
  .object({
    featuresVersion: z.literal(QUERY_FEATURES_VERSION),
    hashDim: z.number().int().positive(),
    weights: z.array(z.number()),
    bias: z.number(),
    lambda: z.number().nonnegative(),
    /** Rows it was fitted on (0: the prior, predicting `bias` for every query). */
    n: z.number().int().nonnegative(),
    trainRmse: z.number().nonnegative().optional(),
    /** Cross-validated (held-out) RMSE: the σ_b the designer integrates over. */
    heldOutRmse: z.number().nonnegative().optional(),
  })
  .strict();
export type DifficultyRegressor = z.infer<typeof DifficultyRegressorSchema>;

const PoolProfileBodySchema = z
  .object({
    kind: z.literal(POOL_PROFILE_KIND),
    version: z.literal(POOL_PROFILE_VERSION),
    /** `pool-file`: copied from the pool's own profile fields; `profiling`: fitted from runs. */
    source: z.enum(['pool-file', 'profiling']),
    simulated: z.boolean(),
    irt: z.enum(['1pl', '2pl']),
    backbones: z.array(ProfiledBackboneSchema).min(1),
    items: z.array(ItemDifficultySchema),
    difficultyRegressor: DifficultyRegressorSchema,
    /** Mean query tokens per domain seen while profiling (used when a query's text is not at hand). */
    meanQueryTokens: z.partialRecord(DomainSchema, z.number().positive()),
  })
  .strict();
export type PoolProfileBody = z.infer<typeof PoolProfileBodySchema>;

export const PoolProfileSchema = PoolProfileBodySchema.extend({ profileHash: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export type PoolProfile = z.infer<typeof PoolProfileSchema>;

/** The profile without its hash field (a stored hash never hashes itself). */
function bodyOf(body: PoolProfileBody & { profileHash?: string }): PoolProfileBody {
  const rest: PoolProfileBody & { profileHash?: string } = { ...body };
  delete rest.profileHash;
  return rest;
}

function computeProfileHash(body: PoolProfileBody): string {
  return sha256Hex(canonicalJson(bodyOf(body)));
}

/** Stamps the content hash; call after every change to a profile. */
export function withProfileHash(body: PoolProfileBody): PoolProfile {
  const rest = bodyOf(body);
  return { ...rest, profileHash: computeProfileHash(rest) };
}

/** Parses and checks that the stored hash matches the content. */
export function parsePoolProfile(json: unknown): PoolProfile {
  const p = PoolProfileSchema.parse(json);
  const h = computeProfileHash(p);
  if (h !== p.profileHash) throw new Error(`PoolProfile hash mismatch: stored ${p.profileHash}, content ${h}`);
  return p;
}

/** A regressor that knows nothing: every query gets difficulty `bias`. */
export function priorDifficultyRegressor(bias = 0): DifficultyRegressor {
  const hashDim = DEFAULT_QUERY_FEATURES.hashDim;
  return {
    featuresVersion: QUERY_FEATURES_VERSION,
    hashDim,
    weights: new Array<number>(queryFeatureDim({ hashDim })).fill(0),
    bias,
    lambda: 0,
    n: 0,
  };
}

/** b̂(q): predicted IRT difficulty of an unseen query. */
export function predictDifficulty(reg: DifficultyRegressor, text: string, domain: Domain): number {
  if (reg.n === 0) return reg.bias;
  return linearPredict(reg, queryFeatures(text, domain, { hashDim: reg.hashDim }));
}

/**
 * σ_b of b̂(q) for the designer: the regressor's held-out error when it was fitted (training error
 * understates it), else undefined (the portfolio's default spread).
 */
export function difficultySpreadOf(reg: DifficultyRegressor): number | undefined {
  if (reg.n === 0) return undefined;
  return reg.heldOutRmse ?? reg.trainRmse;
}

/** Measured mean output tokens of `b` in role `role` (a role id) and `domain`; undefined when profiling did not measure that role there. */
export function roleOutputTokensOf(b: ProfiledBackbone, role: string | undefined, domain: Domain): number | undefined {
  return role !== undefined ? b.roleOutputTokens?.[role]?.[domain] : undefined;
}

/** θ_{m,d}, falling back to the backbone's mean ability over other domains, then 0. */
export function abilityFor(b: ProfiledBackbone, domain: Domain): number {
  const own = b.ability[domain];
  if (own !== undefined) return own;
  const vals = Object.values(b.ability).filter((v): v is number => v !== undefined);
  return vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : 0;
}

/** Profile fields a pool-file backbone contributes (no fitting). */
export function profiledFromBackbone(b: Backbone): ProfiledBackbone {
  return {
    id: b.id,
    provider: b.provider,
    priceInPerMTok: b.priceInPerMTok,
    priceOutPerMTok: b.priceOutPerMTok,
    latency: { ...b.latency },
    contextWindow: b.contextWindow,
    reasoning: b.reasoning ?? false,
    ability: { ...(b.profile?.ability ?? {}) },
    meanOutputTokens: { ...(b.profile?.meanOutputTokens ?? {}) },
  };
}

/**
 * A PoolProfile from the pool file alone, so the designer works before any profiling run:
 * abilities and output lengths come from each backbone's `profile` field (cited public scores for
 * the simulated pool), the latency model as written, and a prior difficulty of 0 for every query.
 */
export function profileFromPoolFile(
  backbones: readonly Backbone[],
  opts: {
    simulated?: boolean;
    /**
     * Difficulty every query gets before profiling (the regressor's bias). The pool file's
     * abilities are calibrated on each domain's reference benchmark (mean item difficulty 0); for
     * another benchmark pass its mean, e.g. core/sim/calibration DIFFICULTY_PRIOR[b].mu.
     */
    difficultyPrior?: number;
  } = {},
): PoolProfile {
  if (backbones.length === 0) throw new Error('profileFromPoolFile: empty pool');
  return withProfileHash({
    kind: POOL_PROFILE_KIND,
    version: POOL_PROFILE_VERSION,
    source: 'pool-file',
    simulated: opts.simulated ?? backbones.every((b) => b.provider === 'simulated'),
    irt: '1pl',
    backbones: backbones.map(profiledFromBackbone),
    items: [],
    difficultyRegressor: priorDifficultyRegressor(opts.difficultyPrior ?? 0),
    meanQueryTokens: {},
  });
}

/** Adds (or replaces) backbones in a profile through their profiles only: the unseen-LLM path. */
export function addBackbonesToProfile(profile: PoolProfile, extra: readonly ProfiledBackbone[]): PoolProfile {
  const ids = new Set(extra.map((b) => b.id));
  return withProfileHash({ ...profile, backbones: [...profile.backbones.filter((b) => !ids.has(b.id)), ...extra] });
}
