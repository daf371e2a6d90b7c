import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MAIN_TASK_QUEUE } from '../core/queues';
import type { RunMasInput, RunMasResult } from '../core/mas';
import { UserError } from './errors';

/**
 * Programmatic API: runs one MAS as a `runMas` workflow and waits for its result. `eagerStart`: the
 * client shares a NativeConnection with an in-process worker, which then gets the first workflow
 * task in the start response instead of through a poll (#17); the server falls back to a normal
 * start when no local worker can take it.
 */
export async function runMas(client: Client, input: RunMasInput, opts: { workflowId?: string; eagerStart?: boolean } = {}): Promise<RunMasResult> {
  const workflowId = opts.workflowId ?? `run-mas-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    return await client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId, args: [input], ...(opts.eagerStart ? { requestEagerStart: true } : {}) });
  } catch (err) {
    throw asUserError(err) ?? err;
  }
}

/** Input errors raised inside a workflow come back as a plain one-line UserError. */
export function asUserError(err: unknown): UserError | undefined {
  if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
    if (err.cause.type === 'InvalidInput' || err.cause.type === 'InvalidMasSpec') return new UserError(err.cause.message);
  }
  return undefined;
}
