import type { MasSpec } from '../../core/mas';
import type { Backbone } from '../../core/pool';
import { countChatTokens } from '../../core/tokens';
import { ProviderError, type ChatRequest, type ChatResponse, type Provider } from '../../activities/providers/types';

/**
 * A deterministic provider for engine tests, scripted by the backbone's model string:
 * `scripted:lat=2;out=40;fail=429,500;answer=42;wait=80` — modelled latency (s), output tokens,
 * statuses of the first failing attempts (per distinct prompt), answer text, and real milliseconds
 * waited whatever the time factor (to make calls finish in another order than they started). Latency is really waited,
 * scaled by the run's time factor, and aborts with the activity's cancellation signal.
 */
export class ScriptedProvider implements Provider {
  readonly kind = 'simulated' as const;
  private readonly attempts = new Map<string, number>();
  /** Every call seen, for assertions. */
  readonly calls: { model: string; maxTokens: number; system: string }[] = [];

  async chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse> {
    const script = parseScript(backbone.model);
    const key = `${backbone.id}|${req.system}|${JSON.stringify(req.messages)}`;
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    this.calls.push({ model: backbone.model, maxTokens: req.maxTokens, system: req.system });
    const inputTokens = countChatTokens(req.system, req.messages);
    const failStatus = script.fail[n - 1];
    if (failStatus !== undefined) {
      throw new ProviderError(`scripted ${failStatus}`, failStatus === 429 || failStatus >= 500, failStatus, failStatus === 429 ? 0.5 : undefined, {
        inputTokens,
        outputTokens: 0,
      });
    }
    const outputTokens = Math.min(script.out, req.maxTokens);
    const latencyS = backbone.latency.ttftS + script.lat;
    const timeFactor = req.simulation?.timeFactor ?? 0;
    await abortableSleep(latencyS * timeFactor * 1000 + script.wait, req.signal);
    return {
      text: `${script.answer} (from ${backbone.id})`,
      usage: { inputTokens, outputTokens },
      timing: { totalS: latencyS },
      simulated: true,
    };
  }
}

function parseScript(model: string): { lat: number; out: number; fail: number[]; answer: string; wait: number } {
  const fields = new Map(
    model
      .replace(/^scripted:/, '')
      .split(';')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  return {
    lat: Number(fields.get('lat') ?? 1),
    out: Number(fields.get('out') ?? 20),
    fail: (fields.get('fail') ?? '').split(',').filter(Boolean).map(Number),
    answer: fields.get('answer') ?? 'Answer: 42',
    wait: Number(fields.get('wait') ?? 0),
  };
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });
}

/** A test backbone with the given script; prices and latency model are realistic magnitudes. */
export function scriptedBackbone(id: string, script: string, over: Partial<Backbone> = {}): Backbone {
  return {
    id,
    provider: 'simulated',
    model: `scripted:${script}`,
    priceInPerMTok: 1,
    priceOutPerMTok: 4,
    latency: { ttftS: 0.1, prefillTps: 5000, decodeTps: 100 },
    contextWindow: 128000,
    reasoning: false,
    ...over,
  };
}

/** Whether a backbone is scripted (routes to ScriptedProvider when tests or benches mix providers). */
export function isScripted(b: Backbone): boolean {
  return b.model.startsWith('scripted:');
}

/**
 * The deadline scenario: a quick and a slow worker feeding a quick decision agent (modelled
 * latencies in seconds, ttft excluded).
 */
export function slowAndQuick(slowLatencyS: number, quickLatencyS = 1): { spec: MasSpec; backbones: Backbone[] } {
  return {
    backbones: [scriptedBackbone('fast', `lat=${quickLatencyS};answer=Answer: 42`), scriptedBackbone('slow', `lat=${slowLatencyS};answer=Answer: 41`)],
    spec: {
      agents: [
        { id: 'quick', role: 'solver', backbone: 'fast' },
        { id: 'sluggish', role: 'solver', backbone: 'slow' },
        { id: 'd', role: 'decider', backbone: 'fast' },
      ],
      edges: [
        ['quick', 'd'],
        ['sluggish', 'd'],
      ],
      decision: 'd',
    },
  };
}
