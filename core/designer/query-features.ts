import type { Domain } from '../domain';
import { hash32 } from '../random';

/**
 * Query features for the difficulty regressor b̂(q): hashed word uni/bigrams (signed feature
 * hashing, sublinear tf, L2-normalised) plus a few length and number-count features and a
 * domain one-hot. No vocabulary is stored, so unseen queries need nothing but their text.
 */
export const QUERY_FEATURES_VERSION = 1;
export const DOMAINS: readonly Domain[] = ['math', 'knowledge', 'code'];

export interface QueryFeatureConfig {
  /** Buckets for hashed n-grams. */
  hashDim: number;
}

export const DEFAULT_QUERY_FEATURES: QueryFeatureConfig = { hashDim: 128 };

/** Number of dense (non-hashed) features appended after the hashed block. */
const DENSE_FEATURES = 7 + DOMAINS.length;

export function queryFeatureDim(cfg: QueryFeatureConfig): number {
  return cfg.hashDim + DENSE_FEATURES;
}

export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]/g) ?? [];
}

/** Signed hashed bag of n-grams, sublinear tf, L2-normalised. */
function hashedNgrams(tokens: readonly string[], dim: number, ngrams: readonly number[] = [1, 2]): number[] {
  const v = new Array<number>(dim).fill(0);
  const counts = new Map<number, number>();
  for (const n of ngrams) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const h = hash32(`${n}|${tokens.slice(i, i + n).join(' ')}`);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
  }
  for (const [h, c] of counts) {
    // Bucket from the low bits, sign from the top bit: collisions cancel in expectation.
    const idx = h % dim;
    v[idx] = v[idx]! + (h >>> 31 ? -1 : 1) * (1 + Math.log(c));
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export function queryFeatures(text: string, domain: Domain, cfg: QueryFeatureConfig = DEFAULT_QUERY_FEATURES): number[] {
  const toks = words(text);
  const numbers = text.match(/\d+(?:\.\d+)?/g) ?? [];
  const digits = (text.match(/\d/g) ?? []).length;
  const operators = (text.match(/[+\-*/^=<>%]/g) ?? []).length;
  const lines = text.split('\n').length;
  const dense = [
    Math.log1p(text.length) / 8,
    Math.log1p(toks.length) / 6,
    Math.log1p(numbers.length) / 3,
    numbers.length / 10,
    digits / Math.max(1, text.length),
    Math.log1p(operators) / 3,
    Math.log1p(lines) / 3,
    ...DOMAINS.map((d) => (d === domain ? 1 : 0)),
  ];
  return [...hashedNgrams(toks, cfg.hashDim), ...dense];
}
