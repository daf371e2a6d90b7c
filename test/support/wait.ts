import type { WorkflowHandle } from '@temporalio/client';

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * Waits for a condition that only polling can see (a query's answer, a counter): `check` returns
 * a value when it holds and undefined while it does not. The limit only turns a hang into a
 * failure that names what was awaited; it is never what a test waits for.
 */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, limitMs = 300_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what} after ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Follows a workflow run's history as the server appends to it (a long poll: the server answers
 * when events arrive, no sleeping) until `done(events)` holds; returns the events so far.
 */
export async function waitForHistory(
  handle: WorkflowHandle,
  done: (events: HistoryEvent[]) => boolean,
  runId?: string,
): Promise<HistoryEvent[]> {
  const { workflowService } = handle.client;
  const { namespace } = handle.client.options;
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    const res = await workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId: handle.workflowId, ...(runId ? { runId } : {}) },
      waitNewEvent: true,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(res.history?.events ?? []));
    if (done(events)) return events;
    // No token: the run has closed and every event has been read.
    if (!res.nextPageToken?.length) throw new Error(`workflow ${handle.workflowId} closed before the awaited history events`);
    nextPageToken = res.nextPageToken;
  }
}
