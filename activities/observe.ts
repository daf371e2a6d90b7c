/**
 * Local activities that book a run's metrics (activities/metrics.ts), called by the `runMas`
 * workflow: `runStarted` after validation, `observeRun` once the result is assembled (or once the
 * run failed). Workflow code never touches the registry.
 *
 * Exactly once per run: a local activity's result is recorded in the workflow history as a marker,
 * so a replay (a worker picking the workflow up again, `Worker.runReplayHistory`) does not run it
 * again. It is executed again only when the workflow task that ran it could not be completed; if
 * that happens in the same process, the per-invocation key (run id + the local activity's
 * sequence number) below makes the second execution a no-op; if the process died, its counters
 * died with it.
 */
import { Context } from '@temporalio/activity';
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
  if (!firstExecution()) return;
  runsInFlight.inc();
  if (input) initSeries(input.backbones, [input.method ?? NO_METHOD]);
}

/** The metrics-booking local activities of runMas. */
export function createObserveActivities() {
  return { runStarted, observeRun };
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
