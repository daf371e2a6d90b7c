import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { Backbone } from '../../core/pool';
import type { ChatRequest, ChatResponse, Provider } from './types';

/**
 * Opt-in response cache for real providers (AGENTBALANCE_RESPONSE_CACHE=1): a response is stored
 * under the hash of the exact request — provider, model, endpoint, system prompt, messages,
 * max_tokens, temperature and sample index — so re-running or extending a campaign does not pay
 * twice for a request it already made. The k-th sample of a request is a different entry from the
 * first, so self-consistency still gets k answers. A cached response keeps its usage, so budgets
 * and reports book what the call cost when it was made. Hits and misses are counted per campaign
 * (`stats/<campaign>.json`) for its report.
 */

const CachedResponseSchema = z.object({
  text: z.string(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedInputTokens: z.number().optional() }),
  timing: z.object({ ttftS: z.number().optional(), totalS: z.number() }),
  simulated: z.boolean(),
});

export function responseCacheKey(b: Backbone, req: ChatRequest): string {
  const exact = {
    provider: b.provider,
    model: b.model,
    baseUrl: b.baseUrl ?? null,
    system: req.system,
    messages: req.messages,
    maxTokens: req.maxTokens,
    temperature: req.temperature,
    sampleIndex: req.sampleIndex ?? 1,
  };
  return createHash('sha256').update(JSON.stringify(exact)).digest('hex');
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/** The campaign a call belongs to: campaign runs' workflow ids start with `<campaignId>.`. */
function campaignOfCall(): string | undefined {
  try {
    const id = Context.current().info.workflowExecution?.workflowId ?? '';
    const m = /^([^.]+)\./.exec(id);
    return m?.[1];
  } catch {
    return undefined;
  }
}

function cacheStatsFile(dir: string, campaignId: string): string {
  return path.join(dir, 'stats', `${campaignId}.json`);
}

export function readCacheStats(dir: string, campaignId: string): CacheStats | undefined {
  const f = cacheStatsFile(dir, campaignId);
  if (!existsSync(f)) return undefined;
  const parsed = z.object({ hits: z.number(), misses: z.number() }).safeParse(JSON.parse(readFileSync(f, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

function writeAtomic(file: string, data: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

export class CachedProvider implements Provider {
  constructor(
    private readonly inner: Provider,
    private readonly dir: string,
  ) {}

  get kind(): Provider['kind'] {
    return this.inner.kind;
  }

  private count(hit: boolean): void {
    const campaign = campaignOfCall();
    if (!campaign) return;
    const s = readCacheStats(this.dir, campaign) ?? { hits: 0, misses: 0 };
    if (hit) s.hits++;
    else s.misses++;
    writeAtomic(cacheStatsFile(this.dir, campaign), JSON.stringify(s));
  }

  async chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse> {
    const key = responseCacheKey(backbone, req);
    const file = path.join(this.dir, key.slice(0, 2), `${key}.json`);
    if (existsSync(file)) {
      const parsed = CachedResponseSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) {
        this.count(true);
        const r = parsed.data;
        return {
          text: r.text,
          usage: { inputTokens: r.usage.inputTokens, outputTokens: r.usage.outputTokens, ...(r.usage.cachedInputTokens !== undefined ? { cachedInputTokens: r.usage.cachedInputTokens } : {}) },
          timing: { totalS: r.timing.totalS, ...(r.timing.ttftS !== undefined ? { ttftS: r.timing.ttftS } : {}) },
          simulated: r.simulated,
        };
      }
    }
    const res = await this.inner.chat(backbone, req);
    writeAtomic(file, JSON.stringify(res));
    this.count(false);
    return res;
  }
}
