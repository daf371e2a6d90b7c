import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  sleep,
  TemporalFailure,
} from '@temporalio/workflow';
import type * as callAgentActivities from '../activities/call-agent';
import type * as callAndGradeActivities from '../activities/call-and-grade';
import type * as gradingActivities from '../activities/grading';
import type * as observeActivities from '../activities/observe';
import { MasSpecError, validateSpec, type DagIndex } from '../core/dag';
import { RunBudget } from '../core/ledger';
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
import type { Backbone } from '../core/pool';
import { buildAgentPrompt, type PeerMessage } from '../core/prompt';
import { llmTaskQueue, MAIN_TASK_QUEUE } from '../core/queues';
import {
  MAX_ATTEMPTS,
  fallbackAnswer,
  newTrace,
  planRun,
  retryDecision,
  runFlags,
  runLatencyS,
  type CallFailure,
  type RunPlan,
} from '../core/run-plan';

// The queues come from the input (`taskQueues`), so histories of runs without it replay unchanged.
const gradingOn = (taskQueue: string) =>
  proxyActivities<ReturnType<typeof gradingActivities.createGradingActivities>>({
    taskQueue,
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3 },
  });
/** Text answers are graded in microseconds: a local activity saves the server round trip. */
const localGrading = proxyLocalActivities<ReturnType<typeof gradingActivities.createGradingActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/**
 * Metrics (activities/observe.ts) are booked outside workflow code. Before the sinks below, by
 * local activities: their results are markers in the history, so replays do not book twice. Best
 * effort: a failure to book never fails the run. The patch keeps histories recorded before metrics
 * replaying unchanged.
 */
const observe = proxyLocalActivities<ReturnType<typeof observeActivities.createObserveActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});
const OBSERVE_RUN_PATCH = 'agentbalance-observe-run-v1';
/**
 * Runs book their metrics through workflow sinks instead (#17): nothing in the history, no dispatch,
 * no activation of their own; not called during replay (activities/observe.ts).
 */
export const OBSERVE_SINKS_PATCH = 'agentbalance-observe-sinks-v1';
const { agentbalanceMetrics } = proxySinks<observeActivities.ObserveSinks>();
/** Runs of this workflow execution so far (a campaign batch runs several inline): numbers their bookings. */
let runsBooked = 0;

async function bestEffort(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (isCancellation(err)) throw err;
  }
}

function llmActivities(backbone: Backbone, taskQueue?: string) {
  return proxyActivities<ReturnType<typeof callAgentActivities.createCallAgentActivities>>({
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
const localCalls = proxyLocalActivities<ReturnType<typeof callAgentActivities.createCallAgentActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});
export const LOCAL_SIM_CALLS_PATCH = 'agentbalance-local-sim-calls-v1';
/**
 * On that path, the decision agent's call grades its own answer in the same local activity
 * (activities/call-and-grade.ts): one dispatch and one workflow activation fewer per run (#17).
 */
const localCallAndGrade = proxyLocalActivities<{ callAgentAndGrade: ReturnType<typeof callAndGradeActivities.makeCallAgentAndGrade> }>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
});
export const GRADE_IN_CALL_PATCH = 'agentbalance-grade-in-call-v1';
/**
 * Runs with regular activity calls (real providers, real waiting) book their metrics alongside the
 * first calls and the grading too, as the local-calls path does, instead of before and after (#17).
 */
export const OVERLAP_BOOKINGS_PATCH = 'agentbalance-overlap-bookings-v1';

interface AgentState {
  trace: AgentTrace;
  /** Output that arrived in time to be used downstream. */
  usable: boolean;
  /** The decision agent's answer, graded by its own call (`gradeInCall`). */
  correct?: boolean;
}

/**
 * Runs one multi-agent system for one query under enforced cost and latency budgets: validate the
 * input, book the run's start, execute it, book its result (metrics; best effort).
 */
export async function runMas(rawInput: RunMasInput): Promise<RunMasResult> {
  const { input, index } = validatedInput(rawInput);
  const observation: observeActivities.ObserveRunInput = {
    ...(input.method !== undefined ? { method: input.method } : {}),
    backbones: input.backbones.map((b) => ({ id: b.id, provider: b.provider, model: b.model })),
  };
  if (patched(OBSERVE_SINKS_PATCH)) {
    const run = ++runsBooked;
    const localSim = usesLocalSimCalls(input);
    agentbalanceMetrics.runStarted(run, observation);
    let result: RunMasResult;
    try {
      result = await execute(input, index, localSim);
    } catch (err) {
      // The run failed (or was cancelled): it is no longer in flight.
      agentbalanceMetrics.observeRun(run, observation);
      throw err;
    }
    agentbalanceMetrics.observeRun(run, { ...observation, result });
    return result;
  }
  // Histories recorded before the sinks: bookings by local activities.
  const observed = patched(OBSERVE_RUN_PATCH);
  const localSim = usesLocalSimCalls(input);
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

/** The parsed input and its DAG; a bad input fails the run without retries (InvalidInput, InvalidMasSpec). */
function validatedInput(rawInput: RunMasInput): { input: RunMasInputParsed; index: DagIndex } {
  const parsed = RunMasInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid runMas input: ${why}`, 'InvalidInput');
  }
  const input = parsed.data;
  const { spec } = input;
  let index;
  try {
    index = validateSpec(spec, new Set(input.backbones.map((b) => b.id)));
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
  return { input, index };
}

/** Whether this run calls its (simulated, time factor 0) backbones as local activities. */
function usesLocalSimCalls(input: RunMasInputParsed): boolean {
  const providers = new Map(input.backbones.map((b) => [b.id, b.provider]));
  const allSimulated = input.spec.agents.every((a) => providers.get(a.backbone) === 'simulated');
  return allSimulated && (input.simulation?.timeFactor ?? 0) === 0 && patched(LOCAL_SIM_CALLS_PATCH);
}

/** What every agent of a run shares: the plan, the cost budget and the deadline scopes. */
interface RunContext {
  input: RunMasInputParsed;
  plan: RunPlan;
  budget: RunBudget;
  backbones: ReadonlyMap<string, Backbone>;
  /** Cancelled at the soft deadline: every agent but the decision agent. */
  workersScope: CancellationScope;
  /** Cancelled at the hard deadline (plus a grace): the decision agent. */
  decisionScope: CancellationScope;
  localSim: boolean;
  /** The decision agent's call grades its answer (text answers on the local-calls path). */
  gradeInCall: boolean;
}

/**
 * The run itself, on a validated input:
 *   plan (core/run-plan.ts): output caps, worst-case costs, soft and hard deadlines;
 *   in real time, cancel the other agents at the soft deadline and the decision agent at the hard one;
 *   run each agent once its predecessors have settled (runAgent: reserve, call, retry, settle);
 *   answer with the decision agent, or fall back to the best answer that finished in time;
 *   grade the answer.
 */
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
  const plan = planRun(
    { spec, backbones, rolePrompts: input.rolePrompts, query: input.query, domain, budgets, timeFactor: input.simulation?.timeFactor },
    index,
  );
  const run: RunContext = {
    input,
    plan,
    budget: new RunBudget(budgets.maxCostUsd, plan.worstCaseUsd),
    backbones,
    workersScope: new CancellationScope(),
    decisionScope: new CancellationScope(),
    localSim,
    gradeInCall: localSim && input.task !== undefined && input.task.answer.kind !== 'code' && patched(GRADE_IN_CALL_PATCH),
  };
  if (plan.cancelAfterMs) {
    const { others, decision } = plan.cancelAfterMs;
    void CancellationScope.nonCancellable(async () => {
      await sleep(others);
      run.workersScope.cancel();
    });
    void CancellationScope.nonCancellable(async () => {
      await sleep(decision);
      run.decisionScope.cancel();
    });
  }

  // Each agent starts as soon as all its predecessors have settled; independent agents overlap.
  const running = new Map<string, Promise<AgentState>>();
  for (const id of index.order) {
    const before = index.preds.get(id)!.map((p) => running.get(p)!);
    running.set(
      id,
      Promise.all(before).then(async (preds) => {
        const s = await runAgent(run, agents.get(id)!, preds);
        return s;
      }),
    );
  }
  const settled = await Promise.all(running.values());
  const states = new Map(index.order.map((id, i) => [id, settled[i]!]));

  const decision = states.get(spec.decision)!;
  const answer = decision.usable ? (decision.trace.text ?? '') : fallbackAnswer(settled, backbones, domain);
  const traces = spec.agents.map((a) => states.get(a.id)!.trace);
  const outcome = {
    costUsd: run.budget.spentUsd,
    latencyS: runLatencyS(traces, plan.hardDeadlineS),
    ...runFlags(traces),
    ...(run.budget.overshoots > 0 ? { costOvershoots: run.budget.overshoots } : {}),
    simulated: plan.simulated,
    agents: traces,
    topology: {
      agents: spec.agents.map((a) => ({ id: a.id, role: a.role, backbone: a.backbone })),
      edges: spec.edges.map(([f, t]) => [f, t] as [string, string]),
    },
  };
  const booked = observeEarly?.({ answer, ...outcome });
  let correct: boolean | undefined;
  if (input.task) {
    // Graded by the decision agent's call when its answer is the run's (`gradeInCall`); code runs in
    // a sandboxed subprocess (seconds): a regular activity on the main queue.
    correct =
      (decision.usable ? decision.correct : undefined) ??
      (await (input.task.answer.kind === 'code' ? gradingOn(input.taskQueues?.main ?? MAIN_TASK_QUEUE) : localGrading).gradeAnswer(input.task, answer)).correct;
  }
  await booked;
  return { answer, ...(correct !== undefined ? { correct } : {}), ...outcome };
}

/** Closes an agent's trace: it will make no more calls. */
function finish(run: RunContext, trace: AgentTrace, status: AgentStatus, clockS: number, extra: Partial<AgentTrace> = {}): AgentState {
  run.budget.finished(trace.id);
  Object.assign(trace, { status, finishS: Math.max(trace.finishS, clockS) }, extra);
  return { trace, usable: status === 'ok' };
}

/**
 * One agent: skip it if its deadline has passed; otherwise call its backbone with the usable
 * predecessor answers, each attempt reserving its fair share of the budget, retrying per
 * `retryDecision` on the agent's modelled clock, until it answers, fails, or a deadline stops it.
 */
async function runAgent(run: RunContext, a: MasAgent, preds: readonly AgentState[]): Promise<AgentState> {
  const { input, plan, budget } = run;
  const isDecision = a.id === input.spec.decision;
  const backbone = run.backbones.get(a.backbone)!;
  const trace = newTrace(a, Math.max(0, ...preds.map((p) => p.trace.finishS)));
  let clockS = trace.startS;
  const deadlineS = isDecision ? plan.hardDeadlineS : plan.softDeadlineS;
  const scope = isDecision ? run.decisionScope : run.workersScope;
  if (clockS >= deadlineS || (scope.consideredCancelled && !isDecision)) return finish(run, trace, 'skipped_deadline', clockS);
  const peers: PeerMessage[] = preds
    .filter((p) => p.usable)
    .map((p) => ({ agentId: p.trace.id, role: p.trace.role, text: p.trace.text ?? '' }));
  const prompt = buildAgentPrompt(plan.persona.get(a.id)!, input.query, peers);
  const act = run.localSim ? localCalls : llmActivities(backbone, input.taskQueues?.llm);
  const gradeInCall = run.gradeInCall && isDecision;

  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    trace.attempts = attempt;
    const { key, capUsd } = budget.reserve(a.id, attempt);
    let failure: CallFailure;
    try {
      const call: callAgentActivities.CallAgentInput = {
        agentId: a.id,
        role: a.role,
        backbone,
        system: prompt.system,
        messages: prompt.messages,
        wantedMaxTokens: plan.wantedMaxTokens.get(a.id)!,
        temperature: 0.7,
        ...(input.budgets.maxCostUsd !== undefined ? { costCapUsd: capUsd } : {}),
        ...(Number.isFinite(deadlineS) ? { secondsLeft: deadlineS - clockS } : {}),
        ...(plan.simulated ? { simulation: simulationOf(input, a.id, attempt, peers) } : {}),
      };
      const res: callAndGradeActivities.CallAgentAndGradeResult = await scope.run(() =>
        gradeInCall ? localCallAndGrade.callAgentAndGrade(call, input.task!) : act.callAgent(call),
      );
      if (res.status !== 'ok') {
        budget.settle(key, 0);
        return finish(run, trace, res.status, clockS, { inputTokens: res.inputTokens });
      }
      budget.settle(key, res.costUsd);
      clockS += res.latencyS;
      const arrivedInTime = clockS <= deadlineS;
      // Too late to be used: downstream agents stopped waiting for it at the deadline.
      if (!arrivedInTime) clockS = deadlineS;
      const settled = finish(run, trace, arrivedInTime ? 'ok' : 'cancelled_deadline', clockS, {
        inputTokens: trace.inputTokens + res.usage.inputTokens,
        outputTokens: trace.outputTokens + res.usage.outputTokens,
        costUsd: trace.costUsd + res.costUsd,
        latencyS: trace.latencyS + res.latencyS,
        maxTokens: res.maxTokens,
        text: res.text,
      });
      return res.graded ? { ...settled, correct: res.graded.correct } : settled;
    } catch (err) {
      if (isCancellation(err)) {
        // Cancelled by the deadline: the provider may have billed part of the call; its usage is
        // unknown to us, so the reservation (an upper bound) is booked.
        const bookedUsd = Number.isFinite(capUsd) ? capUsd : 0;
        budget.settle(key, bookedUsd);
        trace.costUsd += bookedUsd;
        return finish(run, trace, 'cancelled_deadline', Math.max(clockS, deadlineS));
      }
      failure = describeFailure(err);
    }
    budget.settle(key, failure.costUsd);
    trace.costUsd += failure.costUsd;
    const next = retryDecision(failure, attempt, clockS, deadlineS);
    if (next.kind === 'give_up') return finish(run, trace, 'failed', clockS, { error: failure.message });
    clockS += next.waitS;
    if (next.kind === 'past_deadline') return finish(run, trace, 'skipped_deadline', clockS, { error: failure.message });
    if (plan.scale > 0) {
      try {
        await scope.run(() => sleep(next.waitS * plan.scale * 1000));
      } catch (err) {
        if (!isCancellation(err)) throw err;
        // The deadline fell during the backoff: keep the trace (and the failed attempts' cost).
        return finish(run, trace, 'cancelled_deadline', Math.max(clockS, deadlineS), { error: failure.message });
      }
    }
  }
  return finish(run, trace, 'failed', clockS);
}

/** The simulated pool's options for one call: its seed names the run, the agent and the attempt. */
function simulationOf(
  input: RunMasInputParsed,
  agentId: string,
  attempt: number,
  peers: readonly PeerMessage[],
): callAgentActivities.CallAgentInput['simulation'] {
  return {
    ...(input.task ? { task: input.task } : {}),
    seed: `${input.simulation?.seed ?? '0'}/${agentId}/${attempt}`,
    peerTexts: peers.map((p) => p.text),
    timeFactor: input.simulation?.timeFactor ?? 0,
    rate429: input.simulation?.rate429 ?? 0,
    rate5xx: input.simulation?.rate5xx ?? 0,
  };
}

function describeFailure(err: unknown): CallFailure {
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
