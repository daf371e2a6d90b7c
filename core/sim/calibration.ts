import { LRUCache } from 'lru-cache';
import { BENCHMARK_DOMAIN, type BenchmarkId, type Domain } from '../domain';
import type { Backbone } from '../pool';
import { sigmoid } from '../estimate';
import { rngFor } from '../random';

/**
 * Calibration of the simulated pool (pure math). A call is correct with probability
 * σ(θ_{m,B} − b_q + peer effect), where the item difficulty b_q ~ N(μ_B, σ_B) is a seeded latent of
 * the task. θ_{m,B} is solved so that a single agent reproduces the backbone's cited accuracy:
 * E_{b~N(μ_B,σ_B)}[σ(θ − b)] = cited accuracy.
 */

export interface DifficultyPrior {
  mu: number;
  sigma: number;
}

// μ_B orders benchmarks of one domain by hardness on a shared ability scale, so a backbone with only
// a domain ability (profile.ability) still gets sensible per-benchmark odds; σ_B = 1.5 logits of
// item spread makes hard items hard for every backbone (errors correlate, as they do in practice).
const SPREAD = 1.5;
export const DIFFICULTY_PRIOR: Readonly<Record<BenchmarkId, DifficultyPrior>> = {
  gsm8k: { mu: 0, sigma: SPREAD },
  svamp: { mu: -0.3, sigma: SPREAD },
  multiarith: { mu: -2, sigma: SPREAD },
  math500: { mu: 1.5, sigma: SPREAD },
  aqua: { mu: 1, sigma: SPREAD },
  mmlu: { mu: 0, sigma: SPREAD },
  humaneval: { mu: 0, sigma: SPREAD },
  mbpp: { mu: 0.2, sigma: SPREAD },
  'sample-math': { mu: 0, sigma: SPREAD },
  'sample-mc': { mu: 0, sigma: SPREAD },
  'sample-code': { mu: 0, sigma: SPREAD },
};

/** Built-in samples have no public figures: they borrow those of the benchmark they imitate. */
export const CALIBRATION_PROXY: Readonly<Partial<Record<BenchmarkId, BenchmarkId>>> = {
  'sample-math': 'gsm8k',
  'sample-mc': 'mmlu',
  'sample-code': 'humaneval',
};

/** The benchmark whose cited accuracy defines a backbone's `profile.ability[domain]`. */
export const DOMAIN_REFERENCE: Readonly<Record<Domain, BenchmarkId>> = {
  math: 'gsm8k',
  knowledge: 'mmlu',
  code: 'humaneval',
};

// Midpoint rule over z ∈ [−8, 8]: error far below the accuracies we calibrate to.
const GRID_STEP = 0.02;
const GRID: readonly { z: number; w: number }[] = (() => {
  const pts: { z: number; w: number }[] = [];
  let total = 0;
  for (let z = -8 + GRID_STEP / 2; z < 8; z += GRID_STEP) {
    const w = Math.exp(-(z * z) / 2);
    pts.push({ z, w });
    total += w;
  }
  return pts.map((p) => ({ z: p.z, w: p.w / total }));
})();

/** E_{b~N(μ,σ)}[σ(θ − b)]: single-agent accuracy of ability θ on a benchmark with this prior. */
export function expectedAccuracy(theta: number, prior: DifficultyPrior): number {
  let acc = 0;
  for (const { z, w } of GRID) acc += w * sigmoid(theta - (prior.mu + prior.sigma * z));
  return acc;
}

/** Accuracies of exactly 0 or 1 have no finite ability; published figures are clamped into this range. */
const ACCURACY_RANGE = { min: 0.005, max: 0.995 } as const;

/** The θ with expectedAccuracy(θ, prior) = accuracy (bisection; expectedAccuracy is increasing in θ). */
export function solveTheta(accuracy: number, prior: DifficultyPrior): number {
  const target = Math.min(ACCURACY_RANGE.max, Math.max(ACCURACY_RANGE.min, accuracy));
  let lo = prior.mu - 12 * prior.sigma - 12;
  let hi = prior.mu + 12 * prior.sigma + 12;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (expectedAccuracy(mid, prior) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** b_q: the task's seeded difficulty, fixed per (benchmark, task id) so it is shared by every backbone. */
export function taskDifficulty(taskId: string, benchmark: BenchmarkId): number {
  const prior = DIFFICULTY_PRIOR[benchmark];
  return prior.mu + prior.sigma * rngFor('difficulty', benchmark, taskId).normal();
}

/** The backbone's cited accuracy for a benchmark (samples use their proxy's), when it has one. */
export function citedAccuracyFor(backbone: Pick<Backbone, 'citedAccuracy'>, benchmark: BenchmarkId): number | undefined {
  const key = CALIBRATION_PROXY[benchmark] ?? benchmark;
  return backbone.citedAccuracy?.[key]?.value;
}

/** θ per (cited accuracy, prior): one per backbone and benchmark in practice, bounded all the same. */
const thetaCache = new LRUCache<string, number>({ max: 1024 });

function cachedTheta(accuracy: number, prior: DifficultyPrior): number {
  const key = `${accuracy}|${prior.mu}|${prior.sigma}`;
  let theta = thetaCache.get(key);
  if (theta === undefined) {
    theta = solveTheta(accuracy, prior);
    thetaCache.set(key, theta);
  }
  return theta;
}

/**
 * θ_{m,B}: calibrated to the cited accuracy when there is one; otherwise the profile's domain ability
 * (which lives on the same scale, see DOMAIN_REFERENCE); otherwise 0 (a coin-flip-ish backbone).
 */
export function backboneTheta(backbone: Pick<Backbone, 'citedAccuracy' | 'profile'>, benchmark: BenchmarkId): number {
  const cited = citedAccuracyFor(backbone, benchmark);
  if (cited !== undefined) return cachedTheta(cited, DIFFICULTY_PRIOR[benchmark]);
  return backbone.profile?.ability[BENCHMARK_DOMAIN[benchmark]] ?? 0;
}

/** The domain ability a pool file should carry for a cited accuracy on the domain's reference benchmark. */
export function domainAbility(domain: Domain, referenceAccuracy: number): number {
  return solveTheta(referenceAccuracy, DIFFICULTY_PRIOR[DOMAIN_REFERENCE[domain]]);
}
