import type { Domain } from '../core/domain';
import type { Backbone } from '../core/pool';
import { countTokens } from '../core/tokens';
import { fitIrt, type IrtKind, type IrtObservation } from '../core/profiling/irt';
import {
  POOL_PROFILE_KIND,
  POOL_PROFILE_VERSION,
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
}

interface ProfilingOptions {
  /** 'auto': 2PL when items have at least `min2plResponses` responses on average, else 1PL. */
  irt: IrtKind | 'auto';
  min2plResponses: number;
  irtL2: number;
  regressorLambda: number;
  hashDim: number;
  /** Fewer latency observations than this keep the pool file's latency model. */
  minLatencyObservations: number;
}

const DEFAULT_PROFILING: ProfilingOptions = {
  irt: 'auto',
  min2plResponses: 8,
  irtL2: 0.1,
  regressorLambda: 1,
  hashDim: DEFAULT_QUERY_FEATURES.hashDim,
  minLatencyObservations: 5,
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
}

/** Ridge regression b̂(q) on hashed n-gram + length features of the items' query texts. */
export function fitDifficultyRegressor(
  items: readonly { query: string; domain: Domain; b: number }[],
  lambda: number,
  hashDim: number,
): DifficultyRegressor {
  if (items.length < 2) return priorDifficultyRegressor(items[0]?.b ?? 0);
  const X = items.map((it) => queryFeatures(it.query, it.domain, { hashDim }));
  const y = items.map((it) => it.b);
  const model = ridgeFit(X, y, lambda);
  const trainRmse = Math.sqrt(X.reduce((s, x, i) => s + (linearPredict(model, x) - y[i]!) ** 2, 0) / X.length);
  return {
    featuresVersion: QUERY_FEATURES_VERSION,
    hashDim,
    weights: model.weights,
    bias: model.bias,
    lambda,
    n: items.length,
    trainRmse,
  };
}

export function fitPoolProfile(input: FitPoolProfileInput): { profile: PoolProfile; report: ProfilingReport } {
  const opt = { ...DEFAULT_PROFILING, ...(input.options ?? {}) };
  const known = new Set(input.backbones.map((b) => b.id));
  const obs = input.observations.filter((o) => known.has(o.backbone));
  if (obs.length === 0) throw new Error('fitPoolProfile: no observations for the given backbones');

  const itemCount = new Set(obs.map((o) => o.item)).size;
  const irtKind: IrtKind = opt.irt === 'auto' ? (obs.length / itemCount >= opt.min2plResponses ? '2pl' : '1pl') : opt.irt;
  const irtObs: IrtObservation[] = obs.map((o) => ({ backbone: o.backbone, item: o.item, domain: o.domain, correct: o.correct }));
  const irt = fitIrt(irtObs, { kind: irtKind, l2: opt.irtL2 });

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
    // Fitted abilities replace the pool file's where observed; other domains keep the file's value.
    pb.ability = { ...pb.ability, ...(irt.theta[b.id] ?? {}) };
    const byDomain = new Map<Domain, number[]>();
    for (const o of mine) byDomain.set(o.domain, [...(byDomain.get(o.domain) ?? []), o.outputTokens]);
    for (const [d, outs] of byDomain) pb.meanOutputTokens[d] = Math.max(1, outs.reduce((s, v) => s + v, 0) / outs.length);
    return pb;
  });

  const queryOf = new Map<string, string>();
  for (const o of obs) if (!queryOf.has(o.item)) queryOf.set(o.item, o.query);
  const items = irt.items.map((it) => ({ id: it.id, domain: it.domain, b: it.b, a: it.a }));
  const regressor = fitDifficultyRegressor(
    items.map((it) => ({ query: queryOf.get(it.id)!, domain: it.domain, b: it.b })),
    opt.regressorLambda,
    opt.hashDim,
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
      logLikelihood: irt.logLikelihood,
      iterations: irt.iterations,
      items: items.length,
      latencyRmseS,
      regressorTrainRmse: regressor.trainRmse ?? 0,
    },
  };
}
