import type { Domain } from '../core/domain';
import type { Backbone } from '../core/pool';
import { countTokens } from '../core/tokens';
import { fitIrt, type IrtKind, type IrtObservation } from '../core/profiling/irt';
import {
  POOL_PROFILE_KIND,
  POOL_PROFILE_VERSION,
  abilityFor,
  priorDifficultyRegressor,
  profiledFromBackbone,
  withProfileHash,
  type DifficultyRegressor,
  type PoolProfile,
} from '../core/profiling/pool-profile';
import { DEFAULT_QUERY_FEATURES, QUERY_FEATURES_VERSION, queryFeatures } from '../core/designer/query-features';
import { fitLatencyModel, linearPredict, ridgeFit } from '../core/profiling/regression';

/**
 * Pool construction (docs/METHOD.md §1.1): turns profiling runs (each candidate alone on a
 * stratified sample) into a PoolProfile. The math is in core/profiling (irt.ts, regression.ts);
 * this module only groups observations and assembles the artifact, so the `profile` workflow can
 * call it as one activity after its single-agent runs.
 */

export interface ProfilingObservation {
  backbone: string;
  /** Benchmark item id (e.g. `gsm8k/17`). */
  item: string;
  domain: Domain;
  /** The query text (for the difficulty regressor). */
  query: string;
  correct: boolean;
  inputTokens: number;
  outputTokens: number;
  /** Wall (model) seconds of the call. */
  latencyS: number;
  /**
   * Role id the backbone played (profiling runs it as the decision agent). Its output lengths go
   * to `roleOutputTokens[role]`; without a role they are the backbone's mean for every role.
   */
  role?: string;
}

interface ProfilingOptions {
  /**
   * 'auto': 2PL when items have at least `min2plResponses` responses on average, else 1PL. The
   * default is 1PL: the designer predicts with σ(θ − b), and a 2PL on a few tens of items is noise.
   */
  irt: IrtKind | 'auto';
  min2plResponses: number;
  irtL2: number;
  /** Ridge penalty of the difficulty regressor, or 'cv': chosen by held-out error (REGRESSOR_LAMBDAS). */
  regressorLambda: number | 'cv';
  hashDim: number;
  /** Fewer latency observations than this keep the pool file's latency model. */
  minLatencyObservations: number;
  /**
   * Prior sd (logits) of each backbone's ability around the pool file's θ_{m,d}; the fit is the
   * posterior mode, so abilities move off the pool file only as far as the evidence carries them.
   * 0 keeps the pool file's abilities; Infinity is the unanchored fit (the L2 prior only).
   */
  thetaPriorSd: number;
  /** Mean of the prior on item difficulties (the benchmark's prior mean difficulty). */
  difficultyPrior: number;
  /** Folds of the cross-validation that gives the difficulty regressor's held-out RMSE (σ_b). */
  cvFolds: number;
}

/**
 * The profiling defaults, the same for every benchmark. THETA_PRIOR_SD = 0.25 logit: of 0.125,
 * 0.25, 0.5, 1, 2 and no prior, the lowest held-out log-loss of 5-fold cross-validation over the
 * profile-split observations of GSM8K, MMLU, MATH-500 and HumanEval together (bench/profile-prior.ts;
 * bench/results/profile-prior.md). With 40 queries a backbone's θ has a standard error of about
 * 0.4 logit, so the pool file's θ weighs about 2.5× the data there, and the data win from about
 * 100 queries on.
 */
export const THETA_PRIOR_SD = 0.25;

const DEFAULT_PROFILING: ProfilingOptions = {
  irt: '1pl',
  min2plResponses: 8,
  irtL2: 0.1,
  regressorLambda: 'cv',
  hashDim: DEFAULT_QUERY_FEATURES.hashDim,
  minLatencyObservations: 5,
  thetaPriorSd: THETA_PRIOR_SD,
  difficultyPrior: 0,
  cvFolds: 5,
};

export interface FitPoolProfileInput {
  backbones: Backbone[];
  observations: ProfilingObservation[];
  options?: Partial<ProfilingOptions>;
}

export interface ProfilingReport {
  irt: IrtKind;
  logLikelihood: number;
  iterations: number;
  items: number;
  latencyRmseS: Record<string, number>;
  regressorTrainRmse: number;
  /** Cross-validated RMSE of the difficulty regressor (the profile's σ_b). */
  regressorHeldOutRmse: number;
  thetaPriorSd: number;
}

/**
 * Ridge penalties the difficulty regressor chooses from by held-out error; Infinity is the constant
 * (every query gets the items' mean difficulty), which wins when the text features predict worse
 * than no features on unseen queries (a few tens of items and 140 features often do).
 */
const REGRESSOR_LAMBDAS: readonly number[] = [1, 10, 100, Infinity];

/**
 * Ridge regression b̂(q) on hashed n-gram + length features of the items' query texts. `lambda`
 * 'cv' picks the penalty of REGRESSOR_LAMBDAS with the lowest K-fold held-out RMSE.
 */
export function fitDifficultyRegressor(
  items: readonly { query: string; domain: Domain; b: number }[],
  lambda: number | 'cv',
  hashDim: number,
  folds = 5,
): DifficultyRegressor {
  if (items.length < 2) return priorDifficultyRegressor(items[0]?.b ?? 0);
  const X = items.map((it) => queryFeatures(it.query, it.domain, { hashDim }));
  const y = items.map((it) => it.b);
  const scored = (lambda === 'cv' ? REGRESSOR_LAMBDAS : [lambda]).map((l) => ({ l, cv: crossValidatedRmse(X, y, l, folds) }));
  const best = scored.reduce((a, b) => (b.cv < a.cv ? b : a));
  const model = fitRidgeOrConstant(X, y, best.l);
  const trainRmse = Math.sqrt(X.reduce((s, x, i) => s + (linearPredict(model, x) - y[i]!) ** 2, 0) / X.length);
  return {
    featuresVersion: QUERY_FEATURES_VERSION,
    hashDim,
    weights: model.weights,
    bias: model.bias,
    // The schema stores a finite penalty; the constant model is recorded as weights of zero.
    lambda: Number.isFinite(best.l) ? best.l : 1e12,
    n: items.length,
    trainRmse,
    heldOutRmse: best.cv,
  };
}

/** Ridge fit, or (λ = ∞) the constant model: zero weights, the mean as the bias. */
function fitRidgeOrConstant(X: readonly number[][], y: readonly number[], lambda: number): { weights: number[]; bias: number } {
  if (Number.isFinite(lambda)) return ridgeFit(X, y, lambda);
  return { weights: new Array<number>(X[0]?.length ?? 0).fill(0), bias: y.reduce((s, v) => s + v, 0) / y.length };
}

/**
 * K-fold cross-validated RMSE of the ridge regressor: each item is predicted by a fit that did not
 * see it (fold = index mod K, deterministic). Training error understates the error on an unseen
 * query, most of all with few items and many features; this is what the designer integrates over.
 */
export function crossValidatedRmse(X: readonly number[][], y: readonly number[], lambda: number, folds: number): number {
  const k = Math.max(2, Math.min(folds, y.length));
  let sse = 0;
  for (let f = 0; f < k; f++) {
    const trainIdx = y.map((_, i) => i).filter((i) => i % k !== f);
    const testIdx = y.map((_, i) => i).filter((i) => i % k === f);
    const m = fitRidgeOrConstant(
      trainIdx.map((i) => X[i]!),
      trainIdx.map((i) => y[i]!),
      lambda,
    );
    for (const i of testIdx) sse += (linearPredict(m, X[i]!) - y[i]!) ** 2;
  }
  return Math.sqrt(sse / y.length);
}

/**
 * Posterior-mode abilities: the pool file's θ_{m,d} (an ability the file lacks: the backbone's mean
 * over its other domains, else none) is the mean of a normal prior with sd `sd`.
 */
function abilityPriors(backbones: readonly Backbone[], obs: readonly { backbone: string; domain: Domain }[]): Record<string, Partial<Record<Domain, number>>> {
  const out: Record<string, Partial<Record<Domain, number>>> = {};
  for (const b of backbones) {
    const pb = profiledFromBackbone(b);
    if (Object.keys(pb.ability).length === 0) continue;
    for (const o of obs) if (o.backbone === b.id) (out[b.id] ??= {})[o.domain] = abilityFor(pb, o.domain);
  }
  return out;
}

export function fitPoolProfile(input: FitPoolProfileInput): { profile: PoolProfile; report: ProfilingReport } {
  const opt = { ...DEFAULT_PROFILING, ...(input.options ?? {}) };
  const known = new Set(input.backbones.map((b) => b.id));
  const obs = input.observations.filter((o) => known.has(o.backbone));
  if (obs.length === 0) throw new Error('fitPoolProfile: no observations for the given backbones');

  const itemCount = new Set(obs.map((o) => o.item)).size;
  const irtKind: IrtKind = opt.irt === 'auto' ? (obs.length / itemCount >= opt.min2plResponses ? '2pl' : '1pl') : opt.irt;
  const irtObs: IrtObservation[] = obs.map((o) => ({ backbone: o.backbone, item: o.item, domain: o.domain, correct: o.correct }));
  const anchored = Number.isFinite(opt.thetaPriorSd);
  const fit = fitIrt(irtObs, {
    kind: irtKind,
    l2: opt.irtL2,
    bPriorMean: opt.difficultyPrior,
    // sd 0 pins θ at the pool file's (a tiny sd keeps the solver's steps finite).
    ...(anchored ? { thetaPrior: { mean: abilityPriors(input.backbones, obs), sd: Math.max(opt.thetaPriorSd, 1e-3) } } : {}),
  });

  const latencyRmseS: Record<string, number> = {};
  const backbones = input.backbones.map((b) => {
    const pb = profiledFromBackbone(b);
    const mine = obs.filter((o) => o.backbone === b.id);
    if (mine.length >= opt.minLatencyObservations) {
      const fit = fitLatencyModel(mine.map((o) => ({ nIn: o.inputTokens, nOut: o.outputTokens, seconds: o.latencyS })), b.latency);
      pb.latency = fit.model;
      pb.latencyFit = { n: fit.n, rmseS: fit.rmseS };
      latencyRmseS[b.id] = fit.rmseS;
    }
    // Posterior abilities (the pool file's θ as the prior) where observed; other domains keep the file's value.
    if (opt.thetaPriorSd > 0) pb.ability = { ...pb.ability, ...(fit.theta[b.id] ?? {}) };
    // Measured output lengths: per role when the observations name it, else the backbone's mean.
    const byRoleDomain = new Map<string, number[]>();
    for (const o of mine) {
      const k = `${o.role ?? ''}\u0000${o.domain}`;
      byRoleDomain.set(k, [...(byRoleDomain.get(k) ?? []), o.outputTokens]);
    }
    for (const [k, outs] of byRoleDomain) {
      const [role, d] = k.split('\u0000') as [string, Domain];
      const mean = Math.max(1, outs.reduce((s, v) => s + v, 0) / outs.length);
      if (role) ((pb.roleOutputTokens ??= {})[role] ??= {})[d] = mean;
      else pb.meanOutputTokens[d] = mean;
    }
    return pb;
  });

  const queryOf = new Map<string, string>();
  for (const o of obs) if (!queryOf.has(o.item)) queryOf.set(o.item, o.query);
  const items = fit.items.map((it) => ({ id: it.id, domain: it.domain, b: it.b, a: it.a }));
  const regressor = fitDifficultyRegressor(
    items.map((it) => ({ query: queryOf.get(it.id)!, domain: it.domain, b: it.b })),
    opt.regressorLambda,
    opt.hashDim,
    opt.cvFolds,
  );
  const qTok = new Map<Domain, number[]>();
  for (const [id, q] of queryOf) {
    const d = items.find((it) => it.id === id)!.domain;
    qTok.set(d, [...(qTok.get(d) ?? []), countTokens(q)]);
  }
  const meanQueryTokens: Partial<Record<Domain, number>> = {};
  for (const [d, ts] of qTok) meanQueryTokens[d] = ts.reduce((s, v) => s + v, 0) / ts.length;

  const profile = withProfileHash({
    kind: POOL_PROFILE_KIND,
    version: POOL_PROFILE_VERSION,
    source: 'profiling',
    simulated: input.backbones.every((b) => b.provider === 'simulated'),
    irt: irtKind,
    backbones,
    items,
    difficultyRegressor: regressor,
    meanQueryTokens,
  });
  return {
    profile,
    report: {
      irt: irtKind,
      logLikelihood: fit.logLikelihood,
      iterations: fit.iterations,
      items: items.length,
      latencyRmseS,
      regressorTrainRmse: regressor.trainRmse ?? 0,
      regressorHeldOutRmse: regressor.heldOutRmse ?? 0,
      thetaPriorSd: opt.thetaPriorSd,
    },
  };
}
