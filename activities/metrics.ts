/**
 * The product's Prometheus metrics: one registry and every metric definition (issue #7).
 *
 * Served by each worker on `/metrics` (workers/metrics-server.ts), apart from Temporal's own SDK
 * metrics (workers/runtime.ts, their own port). Updated only outside workflow code: per run by
 * runMas's `runStarted` / `observeRun` bookings (workflow sinks, activities/observe.ts), per campaign by
 * `finalizeCampaign`; label sets known in advance are created at 0 first (`initSeries`).
 *
 * Labels are low-cardinality: provider, model (the pool's backbones), method, budget kind, token
 * type. They never carry a query, task or workflow id; the campaign id appears on the two campaign
 * gauges only (and only the most recent campaigns are kept, see `MAX_CAMPAIGNS_KEPT`).
 *
 * The `gen_ai_*` metrics follow the OpenTelemetry GenAI semantic conventions (names as the
 * Prometheus exporter writes them, bucket boundaries as the conventions advise); which version of
 * their names is emitted is set by OTEL_SEMCONV_STABILITY_OPT_IN (see `GenAiSemconv`).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SINGLE_PREFIX } from '../core/methods';
import { productEnv } from '../infra/env';

export const registry = new Registry();

/** `gen_ai_operation_name`: every model call is a chat completion. */
const GEN_AI_OPERATION = 'chat';
/** `method` label of runs started outside a campaign (e.g. `agentbalance run`). */
export const NO_METHOD = 'none';

/** OpenTelemetry GenAI semantic conventions: advised buckets for token histograms. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** … and for the operation/inference duration histograms (seconds). */
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/**
 * Which names of the (still in development) OpenTelemetry GenAI metric conventions are emitted.
 *  - `v1.41`: gen_ai.client.token.usage (histogram by gen_ai.token.type) and
 *    gen_ai.client.operation.duration, as published up to semantic-conventions v1.41.0. Default,
 *    as the conventions' transition plan asks of existing instrumentations.
 *  - `latest`: the semantic-conventions-genai drafts: gen_ai.client.inference.usage.{input,output}_tokens
 *    counters (by gen_ai.token.modality), gen_ai.client.inference.operation.{input,output}_tokens
 *    histograms and gen_ai.client.inference.duration; the old names are not emitted.
 *  - `both`: both sets, to move dashboards and alerts over without a gap.
 */
export type GenAiSemconv = 'v1.41' | 'latest' | 'both';

/**
 * The mode `OTEL_SEMCONV_STABILITY_OPT_IN` asks for (a comma-separated list shared with other
 * instrumentations; values it does not know are ignored): `gen_ai_latest_experimental` emits the
 * latest names only (the conventions' own opt-in value); `gen_ai_latest_experimental/dup` emits both
 * (agentbalance's extension, after the `http/dup` pattern of earlier migrations).
 */
export function genAiSemconvFrom(optIn: string | undefined): GenAiSemconv {
  const values = (optIn ?? '').split(',').map((v) => v.trim());
  if (values.includes('gen_ai_latest_experimental/dup')) return 'both';
  if (values.includes('gen_ai_latest_experimental')) return 'latest';
  return 'v1.41';
}

/** One completed model call, as the GenAI metrics see it. */
interface GenAiCall {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Seconds; not recorded when 0 (no duration known). */
  durationS: number;
}

export interface GenAiInstruments {
  semconv: GenAiSemconv;
  /** Every series name these instruments expose (histograms with _bucket/_sum/_count). */
  seriesNames: string[];
  record(call: GenAiCall): void;
  /** Creates a model's series at 0 (those it has already are left alone). */
  init(provider: string, model: string): void;
}

const histogramSeries = (name: string): string[] => [`${name}_bucket`, `${name}_sum`, `${name}_count`];

/** The GenAI instruments of one semconv mode, registered in `reg`. */
export function createGenAiInstruments(semconv: GenAiSemconv, reg: Registry): GenAiInstruments {
  const recorders: ((c: GenAiCall, base: Record<string, string>) => void)[] = [];
  const zeroers: ((base: Record<string, string>) => void)[] = [];
  // Models with series already: a histogram's zero() would reset them.
  const models = new Set<string>();
  const seriesNames: string[] = [];
  const callLabels = ['gen_ai_operation_name', 'gen_ai_provider_name', 'gen_ai_request_model'] as const;
  if (semconv !== 'latest') {
    const tokenUsage = new Histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per model call (OpenTelemetry GenAI semconv v1.41 gen_ai.client.token.usage); simulated pool: gen_ai_provider_name="simulated"',
      labelNames: [...callLabels, 'gen_ai_token_type'] as const,
      buckets: TOKEN_BUCKETS,
      registers: [reg],
    });
    const operationDuration = new Histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of completed model calls in seconds (semconv v1.41 gen_ai.client.operation.duration); modelled seconds for the simulated pool',
      labelNames: callLabels,
      buckets: DURATION_BUCKETS,
      registers: [reg],
    });
    seriesNames.push(
      ...histogramSeries('gen_ai_client_token_usage'),
      ...histogramSeries('gen_ai_client_operation_duration_seconds'),
    );
    recorders.push((c, base) => {
      tokenUsage.observe({ ...base, gen_ai_token_type: 'input' }, c.inputTokens);
      tokenUsage.observe({ ...base, gen_ai_token_type: 'output' }, c.outputTokens);
      if (c.durationS > 0) operationDuration.observe(base, c.durationS);
    });
    zeroers.push((base) => {
      tokenUsage.zero({ ...base, gen_ai_token_type: 'input' });
      tokenUsage.zero({ ...base, gen_ai_token_type: 'output' });
      operationDuration.zero(base);
    });
  }
  if (semconv !== 'v1.41') {
    const usage = (kind: 'input' | 'output') =>
      new Counter({
        name: `gen_ai_client_inference_usage_${kind}_tokens_total`,
        help: `${kind === 'input' ? 'Input (prompt)' : 'Output (completion)'} tokens used (GenAI semconv draft gen_ai.client.inference.usage.${kind}_tokens)`,
        labelNames: [...callLabels, 'gen_ai_token_modality'] as const,
        registers: [reg],
      });
    const perCall = (kind: 'input' | 'output') =>
      new Histogram({
        name: `gen_ai_client_inference_operation_${kind}_tokens`,
        help: `${kind === 'input' ? 'Input' : 'Output'} tokens per model call (GenAI semconv draft gen_ai.client.inference.operation.${kind}_tokens)`,
        labelNames: callLabels,
        buckets: TOKEN_BUCKETS,
        registers: [reg],
      });
    const usageIn = usage('input');
    const usageOut = usage('output');
    const perCallIn = perCall('input');
    const perCallOut = perCall('output');
    const duration = new Histogram({
      name: 'gen_ai_client_inference_duration_seconds',
      help: 'Duration of completed model calls in seconds (GenAI semconv draft gen_ai.client.inference.duration); modelled seconds for the simulated pool',
      labelNames: callLabels,
      buckets: DURATION_BUCKETS,
      registers: [reg],
    });
    seriesNames.push(
      'gen_ai_client_inference_usage_input_tokens_total',
      'gen_ai_client_inference_usage_output_tokens_total',
      ...histogramSeries('gen_ai_client_inference_operation_input_tokens'),
      ...histogramSeries('gen_ai_client_inference_operation_output_tokens'),
      ...histogramSeries('gen_ai_client_inference_duration_seconds'),
    );
    recorders.push((c, base) => {
      // Every call is a text chat completion, so the modality is known.
      usageIn.inc({ ...base, gen_ai_token_modality: 'text' }, c.inputTokens);
      usageOut.inc({ ...base, gen_ai_token_modality: 'text' }, c.outputTokens);
      perCallIn.observe(base, c.inputTokens);
      perCallOut.observe(base, c.outputTokens);
      if (c.durationS > 0) duration.observe(base, c.durationS);
    });
    zeroers.push((base) => {
      usageIn.inc({ ...base, gen_ai_token_modality: 'text' }, 0);
      usageOut.inc({ ...base, gen_ai_token_modality: 'text' }, 0);
      perCallIn.zero(base);
      perCallOut.zero(base);
      duration.zero(base);
    });
  }
  const baseOf = (provider: string, model: string) => ({
    gen_ai_operation_name: GEN_AI_OPERATION,
    gen_ai_provider_name: provider,
    gen_ai_request_model: model,
  });
  return {
    semconv,
    seriesNames,
    record(c) {
      models.add(`${c.provider}\u0000${c.model}`);
      const base = baseOf(c.provider, c.model);
      for (const r of recorders) r(c, base);
    },
    init(provider, model) {
      const key = `${provider}\u0000${model}`;
      if (models.has(key)) return;
      models.add(key);
      for (const z of zeroers) z(baseOf(provider, model));
    },
  };
}

/** Every series name of every semconv mode (what a dashboard written for all modes may use). */
export function allGenAiSeriesNames(): string[] {
  return createGenAiInstruments('both', new Registry()).seriesNames;
}

let workerGenAi: GenAiInstruments | undefined;

/** The worker's GenAI instruments, in the mode OTEL_SEMCONV_STABILITY_OPT_IN asks for (read when first used). */
export function genAi(): GenAiInstruments {
  workerGenAi ??= createGenAiInstruments(genAiSemconvFrom(productEnv().OTEL_SEMCONV_STABILITY_OPT_IN), registry);
  return workerGenAi;
}

export const costUsd = new Counter({
  name: 'agentbalance_cost_usd_total',
  help: 'Token cost booked by runs, in USD (failed and cancelled attempts included, as the budget ledger books them)',
  labelNames: ['provider', 'model', 'method', 'simulated'] as const,
  registers: [registry],
});

const runCostUsd = new Histogram({
  name: 'agentbalance_run_cost_usd',
  help: 'Cost of one MAS run in USD',
  labelNames: ['method', 'simulated'] as const,
  buckets: [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1],
  registers: [registry],
});

const runLatencySeconds = new Histogram({
  name: 'agentbalance_run_latency_seconds',
  help: "Latency of one MAS run on the run's clock (critical path; modelled seconds for the simulated pool)",
  labelNames: ['method', 'simulated'] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300],
  registers: [registry],
});

export const budgetEvents = new Counter({
  name: 'agentbalance_budget_events_total',
  help: 'Runs that hit their latency deadline (kind="deadline_hit") or exhausted their cost budget (kind="budget_exhausted"); calls that cost more than their reservation (kind="cost_overshoot", 0 by design)',
  labelNames: ['kind', 'method'] as const,
  registers: [registry],
});

export const runsInFlight = new Gauge({
  name: 'agentbalance_runs_in_flight',
  help: 'MAS runs started and not yet finished, as seen by this worker (sum over workers; see README "Observability" for its limits)',
  registers: [registry],
});

/** The `kind` label values of `agentbalance_budget_events_total`. */
const BUDGET_EVENT_KINDS = ['deadline_hit', 'budget_exhausted', 'cost_overshoot'] as const;

/**
 * Series created at 0 before their first booking (issue #15). Prometheus cannot tell that a counter
 * series it scrapes for the first time was ever below its first value, so increase()/rate() would
 * miss a new series' first increment (a worker's first cost per model and method). As Prometheus'
 * instrumentation guidance advises, the label sets known in advance are created at 0: by the
 * worker at start (every backbone of the built-in pools × every method id, activities/observe.ts
 * `initWorkerSeries`) and, for other pools, when a campaign is prepared and when a run starts in
 * the process that books it (`runStarted`); those only help if a scrape falls in between.
 *
 * Bounded: cost series are backbones × methods (a `single:<id>` method with its own backbone only),
 * run histograms and budget events are per method, GenAI series per model; at most
 * `MAX_INITIALISED_LABEL_SETS` label sets are created this way per process (README, "Limits").
 */
export const MAX_INITIALISED_LABEL_SETS = 2000;
const initialised = new Set<string>();
/** Label sets of the run histograms this process has (at 0 or observed): zero() would reset one. */
const runHistogramSets = new Set<string>();

/** A backbone as the series name it. */
export interface SeriesBackbone {
  id: string;
  provider: string;
  model: string;
}

/** True when the label set `key` is new and the cap leaves room for it (then it is recorded). */
function initialise(key: string): boolean {
  if (initialised.has(key) || initialised.size >= MAX_INITIALISED_LABEL_SETS) return false;
  initialised.add(key);
  return true;
}

/** How many label sets `initSeries` created in this process (bounded by `MAX_INITIALISED_LABEL_SETS`). */
export function initialisedLabelSets(): number {
  return initialised.size;
}

/** Creates at 0 the cost, token, run and budget-event series of `methods` on one pool's `backbones`. */
export function initSeries(backbones: readonly SeriesBackbone[], methods: readonly string[]): void {
  const simulated = String(backbones.length > 0 && backbones.every((b) => b.provider === 'simulated'));
  for (const b of backbones) if (initialise(`genai\u0000${b.provider}\u0000${b.model}`)) genAi().init(b.provider, b.model);
  for (const method of methods) {
    if (initialise(`run\u0000${method}\u0000${simulated}`) && !runHistogramSets.has(`${method}\u0000${simulated}`)) {
      runHistogramSets.add(`${method}\u0000${simulated}`);
      runCostUsd.zero({ method, simulated });
      runLatencySeconds.zero({ method, simulated });
    }
    for (const kind of BUDGET_EVENT_KINDS)
      if (initialise(`budget\u0000${kind}\u0000${method}`)) budgetEvents.inc({ kind, method }, 0);
    const only = method.startsWith(SINGLE_PREFIX) ? method.slice(SINGLE_PREFIX.length) : undefined;
    for (const b of backbones) {
      if (only !== undefined && b.id !== only) continue;
      const labels = { provider: b.provider, model: b.model, method, simulated: String(b.provider === 'simulated') };
      if (initialise(`cost\u0000${labels.provider}\u0000${labels.model}\u0000${method}\u0000${labels.simulated}`))
        costUsd.inc(labels, 0);
    }
  }
}

/** Books one run's cost and latency in the run histograms. */
export function observeRunHistograms(method: string, simulated: string, costUsdValue: number, latencyS: number): void {
  runHistogramSets.add(`${method}\u0000${simulated}`);
  runCostUsd.observe({ method, simulated }, costUsdValue);
  runLatencySeconds.observe({ method, simulated }, latencyS);
}

const CAMPAIGN_LABELS = ['campaign', 'method', 'benchmark', 'budget_kind'] as const;

const campaignAccuracy = new Gauge({
  name: 'agentbalance_campaign_accuracy',
  help: "Accuracy of a finished campaign's method over all budgets of one kind",
  labelNames: CAMPAIGN_LABELS,
  registers: [registry],
});

const campaignAuc = new Gauge({
  name: 'agentbalance_campaign_auc',
  help: "Area under a finished campaign's accuracy-versus-budget curve (normalised log-budget axis)",
  labelNames: CAMPAIGN_LABELS,
  registers: [registry],
});

/** Campaign gauges are kept for this many campaigns per process (the oldest are dropped). */
const MAX_CAMPAIGNS_KEPT = 20;
const campaignLabelSets = new Map<string, { method: string; benchmark: string; budget_kind: string }[]>();

export interface CampaignGaugeRow {
  method: string;
  budgetKind: string;
  accuracy: number;
  auc?: number;
}

/** Sets (replaces) a campaign's accuracy and AUC gauges. */
export function setCampaignGauges(campaign: string, benchmark: string, rows: readonly CampaignGaugeRow[]): void {
  for (const old of campaignLabelSets.get(campaign) ?? []) {
    campaignAccuracy.remove({ campaign, ...old });
    campaignAuc.remove({ campaign, ...old });
  }
  campaignLabelSets.delete(campaign);
  const sets: { method: string; benchmark: string; budget_kind: string }[] = [];
  for (const r of rows) {
    const labels = { campaign, method: r.method, benchmark, budget_kind: r.budgetKind };
    if (Number.isFinite(r.accuracy)) campaignAccuracy.set(labels, r.accuracy);
    if (r.auc !== undefined && Number.isFinite(r.auc)) campaignAuc.set(labels, r.auc);
    sets.push({ method: r.method, benchmark, budget_kind: r.budgetKind });
  }
  campaignLabelSets.set(campaign, sets);
  while (campaignLabelSets.size > MAX_CAMPAIGNS_KEPT) {
    const [oldest, labels] = campaignLabelSets.entries().next().value!;
    for (const l of labels) {
      campaignAccuracy.remove({ campaign: oldest, ...l });
      campaignAuc.remove({ campaign: oldest, ...l });
    }
    campaignLabelSets.delete(oldest);
  }
}

let processMetrics = false;

/** Adds prom-client's process metrics (CPU, memory, event-loop lag) to the registry, once. */
export function enableProcessMetrics(): void {
  genAi(); // the GenAI instruments' HELP/TYPE are served from the first scrape
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

/** Every series name the registry can expose (histograms with their _bucket/_sum/_count series). */
export async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    if (String(m.type) === 'summary') for (const s of ['_sum', '_count']) names.add(m.name + s);
  }
  return names;
}
