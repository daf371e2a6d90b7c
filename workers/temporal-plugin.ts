/**
 * `agentbalance/worker`: the product's workflows and activities on a worker a team runs itself,
 * on its own task queue, next to its own workflows.
 *
 * Named temporal-plugin: the Temporal SDK's worker plugin, unrelated to the designer's plug-in methods
 * (`plugin-<base>`, core/designer/plugin.ts).
 *
 *   import { AgentbalancePlugin } from 'agentbalance/worker';
 *   const worker = await Worker.create({ connection, taskQueue: 'my-queue', plugins: [new AgentbalancePlugin()] });
 *
 * or, without the SDK's (experimental) plugin mechanism:
 *
 *   const worker = await Worker.create({ connection, taskQueue: 'my-queue', ...agentbalanceWorkerOptions() });
 *
 * Runs started with the typed client API's `taskQueue` option (`runMas(client, input, { taskQueue })`)
 * schedule every activity on that queue. Campaigns and designer jobs use the product's own queues
 * (`agentbalance`, `agentbalance-llm-<provider>`): `startAgentbalanceWorkers` runs those.
 */
import type { WorkerOptions, WorkerPlugin } from '@temporalio/worker';
import { createObserveSinks } from '../activities/observe';
import { mainActivities, startWorkers, DEFAULT_WORKER_CONFIG, type ActivityOverrides, type WorkerConfig, type RunningWorkers } from './worker';

export { startWorkers as startAgentbalanceWorkers, DEFAULT_WORKER_CONFIG, type WorkerConfig, type RunningWorkers, type ActivityOverrides };

/** The product's activities: the main queue's, the model call among them. */
export function agentbalanceActivities(overrides: ActivityOverrides = {}) {
  return mainActivities(overrides);
}

/** Path of the module exporting every agentbalance workflow (`agentbalance/workflows`). */
export function agentbalanceWorkflowsPath(): string {
  return require.resolve('../workflows');
}

/** Options to spread into `Worker.create`: the product's workflows, activities and metric sinks. */
export function agentbalanceWorkerOptions(overrides: ActivityOverrides = {}): Pick<WorkerOptions, 'workflowsPath' | 'activities' | 'sinks'> {
  return { workflowsPath: agentbalanceWorkflowsPath(), activities: agentbalanceActivities(overrides), sinks: createObserveSinks() };
}

/**
 * The SDK 1.24 worker plugin. It adds the product's activities and metric sinks to the worker's,
 * and its workflows when the worker has none of its own; a worker with its own workflows re-exports the product's
 * from its workflows module instead (`export * from 'agentbalance/workflows'`).
 */
export class AgentbalancePlugin implements WorkerPlugin {
  readonly name = 'agentbalance';
  constructor(private readonly overrides: ActivityOverrides = {}) {}

  configureWorker(options: WorkerOptions): WorkerOptions {
    const activities = { ...agentbalanceActivities(this.overrides), ...(options.activities ?? {}) };
    // runMas books its metrics through these sinks (activities/observe.ts).
    const sinks = { ...createObserveSinks(), ...(options.sinks ?? {}) };
    if (options.workflowsPath || options.workflowBundle) return { ...options, activities, sinks };
    return { ...options, activities, sinks, workflowsPath: agentbalanceWorkflowsPath() };
  }
}
