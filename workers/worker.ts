import { readFile } from 'node:fs/promises';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { productEnv } from '../infra/env';
import { MAIN_TASK_QUEUE, llmTaskQueue } from '../core/queues';
import type { WorkerConfig } from './config';
import { countTokens } from '../core/tokens';
import { createCallAgentActivities } from '../activities/call-agent';
import { createGradingActivities } from '../activities/grading';
import { makeCallAgentAndGrade } from '../activities/call-and-grade';
import { createCampaignActivities } from '../activities/campaign';
import { createObserveActivities, createObserveSinks, initWorkerSeries } from '../activities/observe';
import { createProfilingJobActivities } from '../activities/profiling-jobs';
import { createDesignJobActivities } from '../activities/design-jobs';

// In a module of its own so the CLI can check flags against the defaults without loading the SDK.
export { DEFAULT_WORKER_CONFIG, type WorkerConfig } from './config';

let cachedBundle: Promise<WorkflowBundle> | undefined;

/**
 * Bundles workflow code once per process (webpack; a few seconds), or loads the bundle named by
 * AGENTBALANCE_WORKFLOW_BUNDLE (built once by the test command for its ~20 worker processes).
 */
export function workflowBundle(): Promise<WorkflowBundle> {
  const prebuilt = productEnv().AGENTBALANCE_WORKFLOW_BUNDLE;
  if (prebuilt) cachedBundle ??= readFile(prebuilt, 'utf8').then((code) => ({ code }));
  cachedBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // Evaluated once per workflow thread instead of once per workflow (workflows/preload.ts, #17).
    preloadModules: [require.resolve('../workflows/preload')],
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m), log() {} },
  });
  return cachedBundle;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

type CampaignActivities = ReturnType<typeof createCampaignActivities>;
type CallAgent = ReturnType<typeof createCallAgentActivities>['callAgent'];

/** Activities that replace the product's own (tests: a scripted provider behind callAgent). */
export interface ActivityOverrides {
  callAgent?: CallAgent;
  gradeAnswer?: ReturnType<typeof createGradingActivities>['gradeAnswer'];
  /** Tests inject faults into a campaign's runs here. */
  planRun?: CampaignActivities['planRun'];
  recordRun?: CampaignActivities['recordRun'];
}

/** The model-call activity: on the provider queues, and as a local activity of runMas on the main worker. */
function callAgentActivities(overrides: ActivityOverrides) {
  return overrides.callAgent ? { callAgent: overrides.callAgent } : createCallAgentActivities();
}

/**
 * The activities of the main queue (grading, campaigns, metrics, designer jobs), built by each
 * module's factory: the names are the activity types recorded in histories, so they never change.
 */
export function mainActivities(overrides: ActivityOverrides = {}) {
  const { callAgent } = callAgentActivities(overrides);
  const { gradeAnswer } = overrides.gradeAnswer ? { gradeAnswer: overrides.gradeAnswer } : createGradingActivities();
  return {
    gradeAnswer,
    // runMas calls simulated backbones at time factor 0 as local activities on this worker (#17).
    callAgent,
    // … and its decision agent's call and the grading of its answer as one (activities/call-and-grade.ts).
    callAgentAndGrade: makeCallAgentAndGrade(callAgent, gradeAnswer),
    ...createCampaignActivities(),
    // Local activities of runMas that booked the product metrics before the sinks (activities/observe.ts).
    ...createObserveActivities(),
    ...createProfilingJobActivities(),
    ...createDesignJobActivities(),
    ...(overrides.planRun ? { planRun: overrides.planRun } : {}),
    ...(overrides.recordRun ? { recordRun: overrides.recordRun } : {}),
  };
}

/** Creates and starts the main worker and one worker per provider queue on one connection. */
export async function startWorkers(
  cfg: WorkerConfig,
  connection?: NativeConnection,
  overrides: ActivityOverrides = {},
): Promise<RunningWorkers> {
  // Build the tokenizer now (~0.6 s of parsing ranks) rather than inside the first model call,
  // where it would eat into that run's latency budget.
  countTokens('warm-up');
  // The product series known in advance exist at 0 before the first scrape (activities/metrics.ts).
  initWorkerSeries();
  const conn = connection ?? (await NativeConnection.connect({ address: cfg.address }));
  const main = await Worker.create({
    connection: conn,
    namespace: cfg.namespace,
    taskQueue: MAIN_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: mainActivities(overrides),
    // runMas books its metrics through these (activities/observe.ts).
    sinks: createObserveSinks(),
    maxConcurrentActivityTaskExecutions: cfg.mainConcurrency,
    ...(cfg.identity ? { identity: cfg.identity } : {}),
  });
  const llm = await Promise.all(
    cfg.providers.map((p) =>
      Worker.create({
        connection: conn,
        namespace: cfg.namespace,
        taskQueue: llmTaskQueue(p),
        activities: callAgentActivities(overrides),
        maxConcurrentActivityTaskExecutions: cfg.llmConcurrency,
        // Cancellation reaches a model call only with a heartbeat's response, and heartbeats are
        // throttled to 0.8 × heartbeatTimeout (8 s) by default: a cancelled real generation then
        // ran on for seconds after its deadline. One second bounds that (measured: #14).
        maxHeartbeatThrottleInterval: '1 second',
        ...(cfg.rateLimits[p] !== undefined ? { maxTaskQueueActivitiesPerSecond: cfg.rateLimits[p] } : {}),
        ...(cfg.identity ? { identity: cfg.identity } : {}),
      }),
    ),
  );
  const workers = [main, ...llm];
  const done = Promise.all(workers.map((w) => w.run())).then(async () => {
    if (!connection) await conn.close();
  });
  return {
    workers,
    done,
    shutdown: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
