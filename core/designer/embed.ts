import { z } from 'zod';
import { hash32 } from '../random';
import { words } from './query-features';

/**
 * Text embeddings for roles and queries. The offline default is a deterministic hashed n-gram
 * embedder (word uni/bigrams + character 4-grams, signed feature hashing, sublinear tf, optional
 * per-bucket IDF fitted on a corpus, L2-normalised). It needs no model or network, so training and
 * inference are reproducible anywhere. Remote embedders (activities/embedders.ts) implement the
 * same interface after prefetching, so the pure designer never awaits.
 */
export interface Embedder {
  /** Identifies the embedding space; a designer must be used with the embedder it was trained with. */
  readonly id: string;
  readonly dim: number;
  embed(text: string): number[];
}

export const EmbedderConfigSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('hashed-ngram'),
      dim: z.number().int().positive(),
      /** Per-bucket inverse document frequency; absent means 1 for every bucket. */
      idf: z.array(z.number().nonnegative()).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('openai'),
      model: z.string().min(1),
      dim: z.number().int().positive(),
      baseUrl: z.string().url().optional(),
      apiKeyEnv: z.string().default('OPENAI_API_KEY'),
    })
    .strict(),
]);
export type EmbedderConfig = z.infer<typeof EmbedderConfigSchema>;

const DEFAULT_EMBED_DIM = 64;

/** Hashed bucket ids of a text's features (with repeats, for term frequency). */
function featureBuckets(text: string, dim: number): number[] {
  const toks = words(text);
  const feats: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    feats.push(`w:${toks[i]}`);
    if (i + 1 < toks.length) feats.push(`b:${toks[i]} ${toks[i + 1]}`);
    const t = `^${toks[i]}$`;
    if (t.length > 4) for (let j = 0; j + 4 <= t.length; j++) feats.push(`c:${t.slice(j, j + 4)}`);
  }
  // Signed bucket: sign from the top hash bit, so colliding features cancel in expectation.
  return feats.map((f) => {
    const h = hash32(f);
    return h >>> 31 ? -((h % dim) + 1) : (h % dim) + 1;
  });
}

/** IDF per bucket: ln((1 + N) / (1 + df)) + 1, the smoothed sklearn form. */
export function fitHashedIdf(corpus: readonly string[], dim = DEFAULT_EMBED_DIM): number[] {
  const df = new Array<number>(dim).fill(0);
  for (const text of corpus) {
    for (const b of new Set(featureBuckets(text, dim).map((s) => Math.abs(s) - 1))) df[b]!++;
  }
  return df.map((d) => Math.log((1 + corpus.length) / (1 + d)) + 1);
}

export class HashedNgramEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;
  private readonly idf: readonly number[] | undefined;
  private readonly memo = new Map<string, number[]>();

  constructor(cfg: { dim?: number; idf?: readonly number[] } = {}) {
    this.dim = cfg.dim ?? DEFAULT_EMBED_DIM;
    if (cfg.idf && cfg.idf.length !== this.dim) throw new Error('idf length must equal dim');
    this.idf = cfg.idf;
    // v2: features bucketed by core/random's hash32 (v1 used a different string hash).
    this.id = `hashed-ngram-v2:${this.dim}${cfg.idf ? ':idf' : ''}`;
  }

  embed(text: string): number[] {
    const hit = this.memo.get(text);
    if (hit) return hit;
    const tf = new Map<number, number>();
    for (const s of featureBuckets(text, this.dim)) tf.set(s, (tf.get(s) ?? 0) + 1);
    const v = new Array<number>(this.dim).fill(0);
    for (const [s, c] of tf) {
      const b = Math.abs(s) - 1;
      v[b] = v[b]! + Math.sign(s) * (1 + Math.log(c)) * (this.idf?.[b] ?? 1);
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm) || 1;
    const out = v.map((x) => x / norm);
    if (this.memo.size > 4096) this.memo.clear();
    this.memo.set(text, out);
    return out;
  }
}

/** Builds the offline embedder from its config; remote kinds are built in activities/embedders.ts. */
export function offlineEmbedderFromConfig(cfg: EmbedderConfig): Embedder {
  if (cfg.kind !== 'hashed-ngram') throw new Error(`embedder ${cfg.kind} needs activities/embedders.ts (network)`);
  return new HashedNgramEmbedder({ dim: cfg.dim, ...(cfg.idf ? { idf: cfg.idf } : {}) });
}
