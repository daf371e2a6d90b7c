import type { WorkflowHandle } from '@temporalio/client';

/**
 * Polls a workflow's `progress` query every `everyMs`, one query at a time (a busy workflow answers
 * slowly), and waits for the last one to settle on stop, so the connection can close cleanly.
 */
export function pollProgress<P>(handle: WorkflowHandle, onProgress: (p: P) => void, everyMs = 500): { stop(): Promise<void> } {
  let inflight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inflight) return;
    inflight = handle
      .query<P>('progress')
      .then(onProgress)
      .catch(() => undefined)
      .finally(() => {
        inflight = undefined;
      });
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await inflight;
    },
  };
}
