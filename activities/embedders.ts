import OpenAI from 'openai';
import { offlineEmbedderFromConfig, type Embedder, type EmbedderConfig } from '../core/designer/embed';

/**
 * Embedders that need I/O. The designer is pure and synchronous, so a remote embedder is
 * prefetched: `prepare(texts)` fetches and caches embeddings for every text the designer will
 * ask about (the query and the role prompts), after which `embed` is a cache lookup. The offline
 * hashed n-gram embedder is returned as is.
 */
export interface PreparedEmbedder extends Embedder {
  prepare(texts: readonly string[]): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** OpenAI embeddings (text-embedding-3-* accept `dimensions`, so vectors match the designer's dim). */
export class OpenAIEmbedder implements PreparedEmbedder {
  readonly id: string;
  readonly dim: number;
  private readonly cache = new Map<string, number[]>();
  private client: OpenAI | undefined;

  constructor(
    private readonly cfg: Extract<EmbedderConfig, { kind: 'openai' }>,
    private readonly env: Env = process.env,
  ) {
    this.dim = cfg.dim;
    this.id = `openai:${cfg.model}:${cfg.dim}`;
  }

  private getClient(): OpenAI {
    const key = this.env[this.cfg.apiKeyEnv]?.trim();
    if (!key) throw new Error(`${this.cfg.apiKeyEnv} is not set (needed by the OpenAI embedder)`);
    this.client ??= new OpenAI({ apiKey: key, ...(this.cfg.baseUrl ? { baseURL: this.cfg.baseUrl } : {}) });
    return this.client;
  }

  async prepare(texts: readonly string[]): Promise<void> {
    const missing = [...new Set(texts)].filter((t) => !this.cache.has(t));
    for (let i = 0; i < missing.length; i += BATCH) {
      const chunk = missing.slice(i, i + BATCH);
      const res = await this.getClient().embeddings.create({
        model: this.cfg.model,
        input: chunk,
        dimensions: this.dim,
        encoding_format: 'float',
      });
      res.data.forEach((d) => {
        const v = d.embedding;
        if (v.length !== this.dim) throw new Error(`embedding of dim ${v.length}, expected ${this.dim}`);
        const norm = Math.hypot(...v) || 1;
        this.cache.set(
          chunk[d.index]!,
          v.map((x) => x / norm),
        );
      });
    }
  }

  embed(text: string): number[] {
    const v = this.cache.get(text);
    if (!v) throw new Error('OpenAIEmbedder: text not prepared; call prepare() with every query and role prompt first');
    return v;
  }
}

const BATCH = 256;

/** Builds an embedder from a designer's config; remote ones still need `prepare`. */
export function embedderFromConfig(cfg: EmbedderConfig, env: Env = process.env): PreparedEmbedder {
  if (cfg.kind === 'openai') return new OpenAIEmbedder(cfg, env);
  const offline = offlineEmbedderFromConfig(cfg);
  return { id: offline.id, dim: offline.dim, embed: (t) => offline.embed(t), prepare: async () => {} };
}
