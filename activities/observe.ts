/**
 * A run's metric bookings (activities/metrics.ts), made by the `runMas` workflow: `runStarted` after
 * validation, `observeRun` once the result is assembled (or once the run failed). Workflow code
 * never touches the registry.
 *
 * Runs started since `agentbalance-observe-sinks-v1` (#17) book through workflow sinks
 * (`createObserveSinks`): a sink call is handed to the worker when the workflow's activation ends
 * and leaves nothing in the history, where a local activity costs a dispatch, a marker and often an
 * activation of its own (about a fifth of a one-agent run at time factor 0). Sinks are not called
 * while a worker replays history, so a replay books nothing again. Histories recorded before the
 * patch replay their local activities (`createObserveActivities`), whose results are markers.
 *
 * Exactly once per run, either way, unless the process dies: a booking runs again only when the
 * workflow task that made it could not be completed; in the same process a key per booking (the
 * run id plus the local activity's sequence number, or the sink's booking number) makes the second
 * one a no-op; if the process died, its counters died with it.
 */
import { Context } from '@temporalio/activity';
import type { InjectedSinks } from '@temporalio/worker';
import type { Sinks, WorkflowInfo } from '@temporalio/workflow';
import type { AgentTrace, RunMasResult } from '../core/mas';
import { METHOD_IDS, singleId } from '../core/methods';
import type { ProviderKind } from '../core/pool';
import { BUILTIN_POOLS } from '../core/pool-file';
import { NO_METHOD, budgetEvents, costUsd, genAi, initSeries, observeRunHistograms, runsInFlight } from './metrics';

/** The backbones a run used: what its traces' `backbone` ids stand for. */
interface ObservedBackbone {
  id: string;
  provider: ProviderKind;
  /** The model id sent to the provider (`gen_ai_request_model`). */
  model: string;
}

export interface ObserveRunInput {
  /** The run's result; absent when the run failed (then only the in-flight gauge moves). */
  result?: RunMasResult;
  /** The campaign method that planned the run, when there is one. */
  method?: string;
  backbones: ObservedBackbone[];
}

/** Keys of local-activity invocations already booked in this process (bounded, oldest dropped). */
const booked = new Set<string>();
const MAX_KEYS = 100_000;

/** True the first time this process sees the current local-activity invocation (always true outside one). */
function firstExecution(): boolean {
  let key: string;
  try {
    const info = Context.current().info;
    key = `${info.workflowExecution?.workflowId ?? ''}/${info.workflowExecution?.runId ?? ''}/${info.activityId}`;
  } catch {
    return true; // called directly (unit tests): nothing to de-duplicate
  }
  return firstTime(key);
}

function firstTime(key: string): boolean {
  if (booked.has(key)) return false;
  booked.add(key);
  if (booked.size > MAX_KEYS) booked.delete(booked.values().next().value!);
  return true;
}

/**
 * Local activity: a run passed validation and starts. Creates its method's series at 0 on its
 * backbones in this process, the one that books the run (activities/metrics.ts `initSeries`);
 * histories recorded before the input existed call it without one.
 */
async function runStarted(input?: Omit<ObserveRunInput, 'result'>): Promise<void> {
  if (firstExecution()) bookStart(input);
}

function bookStart(input?: Omit<ObserveRunInput, 'result'>): void {
  runsInFlight.inc();
  if (input) initSeries(input.backbones, [input.method ?? NO_METHOD]);
}

/** The metrics-booking local activities of runMas. */
export function createObserveActivities() {
  return { runStarted, observeRun };
}

/** The bookings as workflow sinks (runs since `agentbalance-observe-sinks-v1`). */
export interface ObserveSinks extends Sinks {
  agentbalanceMetrics: {
    /** `run` numbers the runs of one workflow execution (a campaign batch runs several inline). */
    runStarted(run: number, input: Omit<ObserveRunInput, 'result'>): void;
    observeRun(run: number, input: ObserveRunInput): void;
  };
}

/** The sinks' implementations, for the worker that runs `runMas` (WorkerOptions.sinks). */
export function createObserveSinks(): InjectedSinks<ObserveSinks> {
  const key = (info: WorkflowInfo, what: string, run: number) => `${info.workflowId}/${info.runId}/${what}/${run}`;
  return {
    agentbalanceMetrics: {
      runStarted: {
        fn: (info, run, input) => {
          if (firstTime(key(info, 'start', run))) bookStart(input);
        },
      },
      observeRun: {
        fn: (info, run, input) => {
          if (firstTime(key(info, 'end', run))) bookRun(input);
        },
      },
    },
  };
}

/**
 * At worker start: every label set known in advance at 0, before Prometheus' first scrape — each
 * built-in pool's backbones with every method id (`single:<id>` with its own backbone only) and
 * with `method="none"` (runs outside a campaign).
 */
export function initWorkerSeries(): void {
  for (const pool of Object.values(BUILTIN_POOLS))
    initSeries(pool.backbones, [NO_METHOD, ...METHOD_IDS, ...pool.backbones.map((b) => singleId(b.id))]);
}

/** Local activity: books a finished (or failed) run's cost, tokens, durations and budget events. */
async function observeRun(input: ObserveRunInput): Promise<void> {
  if (firstExecution()) bookRun(input);
}

/** A trace whose model call completed and reported usage (skipped calls never reached a provider). */
function callCompleted(t: AgentTrace): boolean {
  return !t.status.startsWith('skipped') && t.inputTokens + t.outputTokens > 0;
}

/** The booking itself (no de-duplication): pure over the registry. */
export function bookRun(input: ObserveRunInput): void {
  runsInFlight.dec();
  const r = input.result;
  if (!r) return;
  const method = input.method ?? NO_METHOD;
  const simulated = String(r.simulated);
  const byId = new Map(input.backbones.map((b) => [b.id, b]));
  const who = (backboneId: string): { provider: string; model: string } => {
    const b = byId.get(backboneId);
    return b ? { provider: b.provider, model: b.model } : { provider: 'unknown', model: backboneId };
  };

  // Cost per provider/model, as the run's ledger booked it. Trace costs add up to the run's cost,
  // except when an agent's retry wait was cancelled by the deadline (its trace is then replaced by
  // an empty one): that remainder is booked on the agent whose trace was emptied, or unattributed.
  let traced = 0;
  for (const t of r.agents) {
    if (t.costUsd > 0) {
      const w = who(t.backbone);
      costUsd.inc({ provider: w.provider, model: w.model, method, simulated: String(w.provider === 'simulated') }, t.costUsd);
      traced += t.costUsd;
    }
    if (callCompleted(t)) {
      const w = who(t.backbone);
      genAi().record({ ...w, inputTokens: t.inputTokens, outputTokens: t.outputTokens, durationS: t.latencyS });
    }
  }
  const rest = r.costUsd - traced;
  if (rest > 1e-15) {
    const emptied = r.agents.find((t) => t.status === 'cancelled_deadline' && t.attempts === 0);
    const w = emptied ? who(emptied.backbone) : { provider: 'unknown', model: 'unattributed' };
    costUsd.inc(
      { provider: w.provider, model: w.model, method, simulated: emptied ? String(w.provider === 'simulated') : simulated },
      rest,
    );
  }

  observeRunHistograms(method, simulated, r.costUsd, r.latencyS);
  if (r.deadlineHit) budgetEvents.inc({ kind: 'deadline_hit', method });
  if (r.budgetExhausted) budgetEvents.inc({ kind: 'budget_exhausted', method });
  if (r.costOvershoots) budgetEvents.inc({ kind: 'cost_overshoot', method }, r.costOvershoots);
}
