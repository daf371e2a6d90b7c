import type { Domain } from '../domain';
import { meanOutputTokens, predictCall } from '../estimate';
import { irtProbability } from '../profiling/irt';
import { abilityFor, type PoolProfile, type ProfiledBackbone } from '../profiling/pool-profile';
import { DOMAINS } from './query-features';

/**
 * Difficulty-aware pool selection (docs/METHOD.md §1.2): per domain and difficulty band keep the
 * Pareto front of (predicted accuracy ↑, expected cost per call ↓, expected latency ↓), then pick
 * K diverse representatives with k-medoids (PAM, deterministic BUILD + SWAP) on normalised
 * profile vectors. Medoids are central by construction, so the front's extremes (most accurate,
 * cheapest, fastest) are added as anchors: matching must be able to reach them at very large or
 * very small budgets.
 */

export type DifficultyBand = 'easy' | 'medium' | 'hard';
export const BAND_CENTER: Readonly<Record<DifficultyBand, number>> = { easy: -1, medium: 0, hard: 1 };
/** Band edges on the IRT difficulty scale. */
const BAND_EDGES = { easyBelow: -0.5, hardAbove: 0.5 } as const;

export function difficultyBand(b: number): DifficultyBand {
  if (b < BAND_EDGES.easyBelow) return 'easy';
  if (b > BAND_EDGES.hardAbove) return 'hard';
  return 'medium';
}

export interface BackboneMetrics {
  id: string;
  accuracy: number;
  costUsd: number;
  latencyS: number;
}

/** Expected single-call metrics of each backbone for a typical query of the domain at difficulty b. */
export function backboneMetrics(
  backbones: readonly ProfiledBackbone[],
  domain: Domain,
  difficulty: number,
  inputTokens: number,
): BackboneMetrics[] {
  return backbones.map((b) => {
    const nOut = meanOutputTokens(b, domain);
    return {
      id: b.id,
      accuracy: irtProbability(abilityFor(b, domain), difficulty),
      ...predictCall(b, inputTokens, nOut),
    };
  });
}

function dominates(a: BackboneMetrics, b: BackboneMetrics): boolean {
  const geq = a.accuracy >= b.accuracy && a.costUsd <= b.costUsd && a.latencyS <= b.latencyS;
  const gt = a.accuracy > b.accuracy || a.costUsd < b.costUsd || a.latencyS < b.latencyS;
  return geq && gt;
}

/** Non-dominated backbones, most accurate first (ties by id). */
export function paretoFront(metrics: readonly BackboneMetrics[]): BackboneMetrics[] {
  return metrics
    .filter((m) => !metrics.some((o) => o !== m && dominates(o, m)))
    .sort((a, b) => b.accuracy - a.accuracy || (a.id < b.id ? -1 : 1));
}

function dist(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

/**
 * PAM k-medoids: greedy BUILD (deterministic, lowest index wins ties) then SWAP until no swap
 * lowers the total distance. Returns medoid indices in ascending order.
 */
export function kMedoids(points: readonly (readonly number[])[], k: number): number[] {
  const n = points.length;
  if (k >= n) return [...Array(n).keys()];
  if (k <= 0) return [];
  const D = points.map((p) => points.map((q) => dist(p, q)));
  const total = (med: readonly number[]): number => D.reduce((s, row) => s + Math.min(...med.map((m) => row[m]!)), 0);
  const medoids: number[] = [];
  while (medoids.length < k) {
    let best = -1;
    let bestCost = Infinity;
    for (let c = 0; c < n; c++) {
      if (medoids.includes(c)) continue;
      const cost = total([...medoids, c]);
      if (cost < bestCost - 1e-12) {
        bestCost = cost;
        best = c;
      }
    }
    medoids.push(best);
  }
  let current = total(medoids);
  for (let improved = true; improved;) {
    improved = false;
    for (let i = 0; i < k; i++) {
      for (let c = 0; c < n; c++) {
        if (medoids.includes(c)) continue;
        const trial = [...medoids];
        trial[i] = c;
        const cost = total(trial);
        if (cost < current - 1e-12) {
          medoids.splice(0, k, ...trial);
          current = cost;
          improved = true;
        }
      }
    }
  }
  return [...medoids].sort((a, b) => a - b);
}

/** Profile vector: accuracy at the band, log cost, log latency, ability in every domain; min-max normalised. */
function normalisedProfileVectors(
  metrics: readonly BackboneMetrics[],
  backbones: readonly ProfiledBackbone[],
): number[][] {
  const byId = new Map(backbones.map((b) => [b.id, b]));
  const raw = metrics.map((m) => {
    const b = byId.get(m.id)!;
    return [m.accuracy, Math.log(m.costUsd + 1e-9), Math.log(m.latencyS + 1e-6), ...DOMAINS.map((d) => abilityFor(b, d))];
  });
  const dims = raw[0]?.length ?? 0;
  for (let j = 0; j < dims; j++) {
    const col = raw.map((r) => r[j]!);
    const lo = Math.min(...col);
    const span = Math.max(...col) - lo;
    for (const r of raw) r[j] = span > 1e-12 ? (r[j]! - lo) / span : 0;
  }
  return raw;
}

export interface SelectionResult {
  domain: Domain;
  difficulty: number;
  band: DifficultyBand;
  front: BackboneMetrics[];
  medoids: string[];
  /** Front extremes added so matching can reach them (most accurate, cheapest, fastest). */
  anchors: string[];
  /** Candidates handed to matching: medoids ∪ anchors, most accurate first. */
  chosen: string[];
}

export interface SelectionOptions {
  domain: Domain;
  /** Difficulty to evaluate at; usually the band centre of b̂(q). */
  difficulty: number;
  k: number;
  /** Typical input tokens of one call (system + query). */
  inputTokens: number;
  /** Restrict to these backbone ids (e.g. the pool a run may use). */
  allow?: ReadonlySet<string>;
}

export function selectPool(profile: PoolProfile, opts: SelectionOptions): SelectionResult {
  const backbones = opts.allow ? profile.backbones.filter((b) => opts.allow!.has(b.id)) : profile.backbones;
  if (backbones.length === 0) throw new Error('selectPool: no backbones allowed');
  const front = paretoFront(backboneMetrics(backbones, opts.domain, opts.difficulty, opts.inputTokens));
  const vecs = normalisedProfileVectors(front, backbones);
  const medoids = kMedoids(vecs, opts.k).map((i) => front[i]!.id);
  const pick = (cmp: (a: BackboneMetrics, b: BackboneMetrics) => number): string => [...front].sort(cmp)[0]!.id;
  const anchors = [
    pick((a, b) => b.accuracy - a.accuracy || a.costUsd - b.costUsd),
    pick((a, b) => a.costUsd - b.costUsd || b.accuracy - a.accuracy),
    pick((a, b) => a.latencyS - b.latencyS || b.accuracy - a.accuracy),
  ].filter((id, i, arr) => arr.indexOf(id) === i && !medoids.includes(id));
  const chosenSet = new Set([...medoids, ...anchors]);
  return {
    domain: opts.domain,
    difficulty: opts.difficulty,
    band: difficultyBand(opts.difficulty),
    front,
    medoids,
    anchors,
    chosen: front.filter((m) => chosenSet.has(m.id)).map((m) => m.id),
  };
}
