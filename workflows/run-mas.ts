import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TemporalFailure,
} from '@temporalio/workflow';
import type * as callAgentActivities from '../activities/call-agent';
import type * as gradingActivities from '../activities/grading';
import type * as observeActivities from '../activities/observe';
import { MasSpecError, validateSpec, type DagIndex } from '../core/dag';
import { HOPS_AFTER_SOFT_DEADLINE, ORCHESTRATION_HOP_S } from '../core/orchestration';
import { CostLedger, fairShare } from '../core/ledger';
import {
  CALL_FAILURE_TYPE,
  RunMasInputSchema,
  type AgentStatus,
  type AgentTrace,
  type MasAgent,
  type RunMasInput,
  type RunMasInputParsed,
  type RunMasResult,
} from '../core/mas';
import { callCostUsd, callLatencyS, tokenUpperBound } from '../core/estimate';
import type { Backbone } from '../core/pool';
import { buildAgentPrompt, type PeerMessage } from '../core/prompt';
import { llmTaskQueue, MAIN_TASK_QUEUE } from '../core/queues';

/** Attempts per agent call (first try included); only 429/5xx/timeouts are retried. */
export const MAX_ATTEMPTS = 4;
/** Real seconds granted past the latency budget for cancellation to land before the fallback answer. */
const HARD_DEADLINE_GRACE_S = 0.25;
/**
 * Real seconds set aside after the soft deadline for the orchestration the decision agent still
 * needs (timer, dispatch, result): the measured per-hop overhead at its 99th percentile (#17).
 */
const ORCHESTRATION_RESERVE_REAL_S = HOPS_AFTER_SOFT_DEADLINE * ORCHESTRATION_HOP_S.p99;

// The queues come from the input (`taskQueues`), so histories of runs without it replay unchanged.
const gradingOn = (taskQueue: string) =>
  proxyActivities<typeof gradingActivities>({
    taskQueue,
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3 },
  });
/** Text answers are graded in microseconds: a local activity saves the server round trip. */
const localGrading = proxyLocalActivities<typeof gradingActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/**
 * Metrics (activities/observe.ts) are booked outside workflow code by local activities: their
 * results are markers in the history, so replays do not book twice. Best effort: a failure to book
 * never fails the run. The patch keeps histories recorded before metrics replaying unchanged.
 */
const observe = proxyLocalActivities<typeof observeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});
export const OBSERVE_RUN_PATCH = 'agentbalance-observe-run-v1';

async function bestEffort(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isCancellation(err)) throw err;
  }
}

function llmActivities(backbone: Backbone, taskQueue?: string) {
  return proxyActivities<typeof callAgentActivities>({
    taskQueue: taskQueue ?? llmTaskQueue(backbone.provider),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    // The workflow retries calls itself so each attempt is booked in the ledger.
    retry: { maximumAttempts: 1 },
    cancellationType: 'TRY_CANCEL',
  });
}

/**
 * Simulated calls at time factor 0 cost nothing and take a millisecond of CPU: as local activities
 * on the workflow's worker they skip the server round trips of a task per call (#17). Trade-off: a
 * local activity's result is recorded when the workflow task completes, so a worker crash can
 * recompute the calls of its last workflow task; at time factor 0 they are seeded and free, so the
 * recomputation gives the same result and spends nothing. Real providers and real waiting keep
 * regular activities (a finished call is never repeated; provider queues are rate-limited).
 */
const localCalls = proxyLocalActivities<typeof callAgentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});
export const LOCAL_SIM_CALLS_PATCH = 'agentbalance-local-sim-calls-v1';
/**
 * Runs with regular activity calls (real providers, real waiting) book their metrics alongside the
 * first calls and the grading too, as the local-calls path does, instead of before and after (#17).
 */
export const OVERLAP_BOOKINGS_PATCH = 'agentbalance-overlap-bookings-v1';

interface AgentState {
  trace: AgentTrace;
  /** Output that arrived in time to be used downstream. */
  usable: boolean;
}

/** Runs one multi-agent system for one query under enforced cost and latency budgets. */
export async function runMas(rawInput: RunMasInput): Promise<RunMasResult> {
  const parsed = RunMasInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid runMas input: ${why}`, 'InvalidInput');
  }
  const input = parsed.data;
  const { spec } = input;
  const backbones = new Map(input.backbones.map((b) => [b.id, b]));
  let index;
  try {
    index = validateSpec(spec, new Set(backbones.keys()));
  } catch (e) {
    if (e instanceof MasSpecError) throw ApplicationFailure.nonRetryable(e.message, 'InvalidMasSpec');
    throw e;
  }
  const missingRoles = spec.agents.filter((a) => a.systemPrompt === undefined && input.rolePrompts[a.role] === undefined);
  if (missingRoles.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `invalid MAS spec: no prompt for role(s) ${missingRoles.map((a) => `"${a.role}" (agent "${a.id}")`).join(', ')}`,
      'InvalidMasSpec',
    );
  }

  const observed = patched(OBSERVE_RUN_PATCH);
  const localSim = usesLocalSimCalls(input);
  const observation: observeActivities.ObserveRunInput = {
    ...(input.method !== undefined ? { method: input.method } : {}),
    backbones: input.backbones.map((b) => ({ id: b.id, provider: b.provider, model: b.model })),
  };
  // The bookings run alongside the work (the first calls; the grading) instead of adding two
  // sequential local-activity round trips to the run's critical path. Histories recorded before
  // the patch (regular-activity runs) keep their order.
  const overlap = observed && (localSim || patched(OVERLAP_BOOKINGS_PATCH));
  const started = observed ? bestEffort(() => observe.runStarted(observation)) : Promise.resolve();
  if (!overlap) await started;
  const observeEarly =
    overlap
      ? (result: RunMasResult) => started.then(() => bestEffort(() => observe.observeRun({ ...observation, result })))
      : undefined;
  let result: RunMasResult;
  try {
    result = await execute(input, index, localSim, observeEarly);
  } catch (err) {
    // The run failed (or was cancelled): it is no longer in flight.
    if (observed) await CancellationScope.nonCancellable(() => started.then(() => bestEffort(() => observe.observeRun(observation))));
    throw err;
  }
  if (observed && !observeEarly) await bestEffort(() => observe.observeRun({ ...observation, result }));
  return result;
}

/** Whether this run calls its (simulated, time factor 0) backbones as local activities. */
function usesLocalSimCalls(input: RunMasInputParsed): boolean {
  const providers = new Map(input.backbones.map((b) => [b.id, b.provider]));
  const allSimulated = input.spec.agents.every((a) => providers.get(a.backbone) === 'simulated');
  return allSimulated && (input.simulation?.timeFactor ?? 0) === 0 && patched(LOCAL_SIM_CALLS_PATCH);
}

/** The run itself, on a validated input. */
async function execute(
  input: RunMasInputParsed,
  index: DagIndex,
  localSim: boolean,
  /** Books the run's metrics; started before grading, which they do not depend on. */
  observeEarly?: (result: RunMasResult) => Promise<void>,
): Promise<RunMasResult> {
  const { spec, budgets } = input;
  const backbones = new Map(input.backbones.map((b) => [b.id, b]));
  const agents = new Map(spec.agents.map((a) => [a.id, a]));
  const domain = input.task?.domain;
  const bb = (a: MasAgent): Backbone => backbones.get(a.backbone)!;
  const persona = (a: MasAgent): string => a.systemPrompt ?? input.rolePrompts[a.role]!;
  const wantedMaxTokens = (a: MasAgent): number => {
    if (a.maxTokens !== undefined) return a.maxTokens;
    const mean = domain ? bb(a).profile?.meanOutputTokens[domain] : undefined;
    return mean !== undefined ? Math.min(8192, Math.max(256, Math.ceil(3 * mean))) : 1024;
  };
  const simulated = spec.agents.some((a) => bb(a).provider === 'simulated');
  const realProvider = spec.agents.some((a) => bb(a).provider !== 'simulated');
  // Real seconds per modelled second: real providers run in real time; the simulated pool waits
  // timeFactor real seconds per simulated second (0: no waiting, deadlines use the modelled clock).
  const scale = realProvider ? 1 : (input.simulation?.timeFactor ?? 0);

  // Worst-case cost of each call, to divide the budget fairly between calls not yet made.
  const worstCaseUsd = new Map<string, number>();
  for (const a of spec.agents) {
    const inTok =
      tokenUpperBound(persona(a) + input.query) + index.preds.get(a.id)!.reduce((s, p) => s + wantedMaxTokens(agents.get(p)!), 0);
    worstCaseUsd.set(a.id, callCostUsd(bb(a), inTok, wantedMaxTokens(a)));
  }
  const notStarted = new Set(spec.agents.map((a) => a.id));

  // Latency budget. The decision agent needs time to answer, so other agents must be done by a
  // soft deadline that leaves it its predicted latency on a modest answer.
  const latencyBudget = budgets.maxLatencyS;
  const decisionAgent = agents.get(spec.decision)!;
  const decisionReserveS = callLatencyS(
    bb(decisionAgent).latency,
    tokenUpperBound(persona(decisionAgent) + input.query) + 64 * index.preds.get(spec.decision)!.length,
    Math.min(128, wantedMaxTokens(decisionAgent)),
  );
  // In real time, scheduling the decision call through Temporal also takes a little wall time.
  const orchestrationReserveS = scale > 0 ? ORCHESTRATION_RESERVE_REAL_S / scale : 0;
  const softDeadlineS =
    latencyBudget === undefined ? Infinity : Math.max(0, latencyBudget - decisionReserveS - orchestrationReserveS);
  const hardDeadlineS = latencyBudget ?? Infinity;

  const ledger = new CostLedger(budgets.maxCostUsd);
  const states = new Map<string, AgentState>();
  let deadlineHit = false;
  let budgetExhausted = false;

  // Real-time enforcement: cancel outstanding calls when the (scaled) deadlines pass.
  const workersScope = new CancellationScope();
  const decisionScope = new CancellationScope();
  if (latencyBudget !== undefined && scale > 0) {
    void CancellationScope.nonCancellable(async () => {
      await sleep(Math.max(1, softDeadlineS * scale * 1000));
      workersScope.cancel();
    });
    void CancellationScope.nonCancellable(async () => {
      await sleep(Math.max(1, (hardDeadlineS * scale + HARD_DEADLINE_GRACE_S) * 1000));
      decisionScope.cancel();
    });
  }

  const runAgent = async (a: MasAgent): Promise<AgentState> => {
    const isDecision = a.id === spec.decision;
    const backbone = bb(a);
    const preds = index.preds.get(a.id)!.map((p) => states.get(p)!);
    let clockS = Math.max(0, ...preds.map((p) => p.trace.finishS));
    const deadlineS = isDecision ? hardDeadlineS : softDeadlineS;
    const trace: AgentTrace = {
      id: a.id,
      role: a.role,
      backbone: a.backbone,
      status: 'ok',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      latencyS: 0,
      startS: clockS,
      finishS: clockS,
      maxTokens: 0,
      attempts: 0,
    };
    const done = (status: AgentStatus, extra: Partial<AgentTrace> = {}): AgentState => {
      notStarted.delete(a.id);
      Object.assign(trace, { status, finishS: Math.max(trace.finishS, clockS) }, extra);
      return { trace, usable: status === 'ok' };
    };
    const scope = isDecision ? decisionScope : workersScope;
    if (clockS >= deadlineS || (scope.consideredCancelled && !isDecision)) {
      deadlineHit = true;
      return done('skipped_deadline');
    }
    const peers: PeerMessage[] = preds
      .filter((p) => p.usable)
      .map((p) => ({ agentId: p.trace.id, role: p.trace.role, text: p.trace.text ?? '' }));
    const prompt = buildAgentPrompt(persona(a), input.query, peers);
    const act = localSim ? localCalls : llmActivities(backbone, input.taskQueues?.llm);

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      trace.attempts = attempt;
      const key = `${a.id}#${attempt}`;
      const pending = [...notStarted].map((id) => worstCaseUsd.get(id)!);
      const capUsd = ledger.reserve(key, fairShare(ledger.available(), worstCaseUsd.get(a.id)!, pending));
      try {
        const res = await scope.run(() =>
          act.callAgent({
            agentId: a.id,
            role: a.role,
            backbone,
            system: prompt.system,
            messages: prompt.messages,
            wantedMaxTokens: wantedMaxTokens(a),
            temperature: 0.7,
            ...(budgets.maxCostUsd !== undefined ? { costCapUsd: capUsd } : {}),
            ...(Number.isFinite(deadlineS) ? { secondsLeft: deadlineS - clockS } : {}),
            ...(simulated
              ? {
                  simulation: {
                    ...(input.task ? { task: input.task } : {}),
                    seed: `${input.simulation?.seed ?? '0'}/${a.id}/${attempt}`,
                    peerTexts: peers.map((p) => p.text),
                    timeFactor: input.simulation?.timeFactor ?? 0,
                    rate429: input.simulation?.rate429 ?? 0,
                    rate5xx: input.simulation?.rate5xx ?? 0,
                  },
                }
              : {}),
          }),
        );
        if (res.status !== 'ok') {
          ledger.settle(key, 0);
          if (res.status === 'skipped_budget') budgetExhausted = true;
          else deadlineHit = true;
          return done(res.status, { inputTokens: res.inputTokens });
        }
        ledger.settle(key, res.costUsd);
        clockS += res.latencyS;
        const arrivedInTime = clockS <= deadlineS;
        if (!arrivedInTime) {
          // Too late to be used: downstream agents stopped waiting for it at the deadline.
          deadlineHit = true;
          clockS = deadlineS;
        }
        return done(arrivedInTime ? 'ok' : 'cancelled_deadline', {
          inputTokens: trace.inputTokens + res.usage.inputTokens,
          outputTokens: trace.outputTokens + res.usage.outputTokens,
          costUsd: trace.costUsd + res.costUsd,
          latencyS: trace.latencyS + res.latencyS,
          maxTokens: res.maxTokens,
          text: res.text,
        });
      } catch (err) {
        if (isCancellation(err)) {
          // Cancelled by the deadline: the provider may have billed part of the call; its usage is
          // unknown to us, so the reservation (an upper bound) is booked.
          const bookedUsd = Number.isFinite(capUsd) ? capUsd : 0;
          ledger.settle(key, bookedUsd);
          trace.costUsd += bookedUsd;
          deadlineHit = true;
          clockS = Math.max(clockS, deadlineS);
          return done('cancelled_deadline');
        }
        const failure = describeFailure(err);
        ledger.settle(key, failure.costUsd);
        trace.costUsd += failure.costUsd;
        if (!failure.retryable || attempt === MAX_ATTEMPTS) return done('failed', { error: failure.message });
        // Honour the provider's retry-after; otherwise exponential backoff from 1 s.
        const waitS = failure.retryAfterS ?? 2 ** (attempt - 1);
        clockS += waitS;
        if (clockS >= deadlineS) {
          deadlineHit = true;
          return done('skipped_deadline', { error: failure.message });
        }
        if (scale > 0) {
          try {
            await scope.run(() => sleep(waitS * scale * 1000));
          } catch (err) {
            if (!isCancellation(err)) throw err;
            // The deadline fell during the backoff: keep the trace (and the failed attempts' cost).
            deadlineHit = true;
            clockS = Math.max(clockS, deadlineS);
            return done('cancelled_deadline', { error: failure.message });
          }
        }
      }
    }
    return done('failed');
  };

  // Each agent starts as soon as all its predecessors have settled; independent agents overlap.
  const running = new Map<string, Promise<AgentState>>();
  for (const id of index.order) {
    const a = agents.get(id)!;
    const before = index.preds.get(id)!.map((p) => running.get(p)!);
    running.set(
      id,
      Promise.all(before).then(async () => {
        const s = await runAgent(a);
        states.set(id, s);
        return s;
      }),
    );
  }
  await Promise.all(running.values());

  const decision = states.get(spec.decision)!;
  let answer: string;
  if (decision.usable) {
    answer = decision.trace.text ?? '';
  } else {
    answer = bestFinishedAnswer([...states.values()], backbones, domain);
  }
  const traces = spec.agents.map((a) => states.get(a.id)!.trace);
  // The answer is available when the last call settles, or at the deadline if we gave up waiting.
  const latencyS = Math.min(hardDeadlineS, Math.max(...traces.map((t) => t.finishS)));

  const outcome = {
    costUsd: ledger.spentUsd,
    latencyS,
    deadlineHit,
    budgetExhausted,
    simulated,
    agents: traces,
    topology: {
      agents: spec.agents.map((a) => ({ id: a.id, role: a.role, backbone: a.backbone })),
      edges: spec.edges.map(([f, t]) => [f, t] as [string, string]),
    },
  };
  const booked = observeEarly?.({ answer, ...outcome });
  let correct: boolean | undefined;
  if (input.task) {
    // Code runs in a sandboxed subprocess (seconds): a regular activity on the main queue.
    const g = await (input.task.answer.kind === 'code' ? gradingOn(input.taskQueues?.main ?? MAIN_TASK_QUEUE) : localGrading).gradeAnswer(input.task, answer);
    correct = g.correct;
  }
  await booked;
  return { answer, ...(correct !== undefined ? { correct } : {}), ...outcome };
}

interface FailureInfo {
  message: string;
  retryable: boolean;
  retryAfterS?: number;
  costUsd: number;
}

function describeFailure(err: unknown): FailureInfo {
  // A regular activity's failure arrives as an ActivityFailure wrapping the cause; a local
  // activity's (simulated calls at time factor 0) arrives as the cause itself.
  const local = !(err instanceof ActivityFailure) && err instanceof TemporalFailure;
  if (err instanceof ActivityFailure || local) {
    const cause = local ? err : err.cause;
    if (cause instanceof ApplicationFailure && cause.type === CALL_FAILURE_TYPE) {
      const d = (cause.details?.[0] ?? {}) as Partial<callAgentActivities.CallFailureDetails>;
      return {
        message: cause.message,
        retryable: d.retryable === true,
        ...(typeof d.retryAfterS === 'number' ? { retryAfterS: d.retryAfterS } : {}),
        costUsd: typeof d.costUsd === 'number' ? d.costUsd : 0,
      };
    }
    // Timeouts (a dead worker stops heartbeating) and unexpected activity errors: retry.
    return { message: cause?.message ?? err.message, retryable: true, costUsd: 0 };
  }
  return { message: err instanceof Error ? err.message : String(err), retryable: false, costUsd: 0 };
}

/** When the decision agent could not answer in time: the finished answer from the strongest backbone. */
function bestFinishedAnswer(states: AgentState[], backbones: Map<string, Backbone>, domain: string | undefined): string {
  const finished = states.filter((s) => s.usable && s.trace.text);
  if (finished.length === 0) return '';
  const ability = (s: AgentState): number => {
    const p = backbones.get(s.trace.backbone)?.profile?.ability;
    return domain && p ? (p[domain as keyof typeof p] ?? 0) : 0;
  };
  finished.sort((x, y) => ability(y) - ability(x) || y.trace.finishS - x.trace.finishS);
  return finished[0]!.trace.text!;
}
