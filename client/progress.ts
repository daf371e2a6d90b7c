import cliProgress from 'cli-progress';
import type { WorkflowHandle } from '@temporalio/client';
import { productEnv } from '../infra/env';

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

export interface ProgressReporter {
  update(done: number, total: number, extra?: string): void;
  stop(): void;
}

/**
 * Progress on stderr (stdout stays for results, e.g. one JSON object): a live bar on a terminal,
 * otherwise one status line every `everyS` seconds (AGENTBALANCE_PROGRESS_EVERY_S, default 10) and
 * a last one when it stops.
 */
export function progressReporter(label: string, unit: string, opts: { tty?: boolean; everyS?: number } = {}): ProgressReporter {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const everyS = opts.everyS ?? (Number(productEnv().AGENTBALANCE_PROGRESS_EVERY_S) || 10);
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { format: ` ${label} {bar} {value}/{total} ${unit} | ETA {eta_formatted}{extra}`, hideCursor: true, etaBuffer: 50, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, extra) {
        const payload = { extra: extra ? ` | ${extra}` : '' };
        if (!started) {
          if (total <= 0) return;
          bar.start(total, done, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(done, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const t0 = Date.now();
  let last = 0;
  let lastLine = '';
  let first: number | undefined;
  const line = (done: number, total: number, extra?: string): string => {
    first ??= done;
    const el = (Date.now() - t0) / 1000;
    const rate = el > 0 ? (done - first) / el : 0;
    const eta = rate > 0 && total > done ? ` · ETA ${Math.ceil((total - done) / rate)} s` : '';
    const pct = total > 0 ? ` (${((100 * done) / total).toFixed(1)} %)` : '';
    return `agentbalance: ${label} ${done}/${total} ${unit}${pct} · ${rate.toFixed(1)} ${unit}/s${eta}${extra ? ` · ${extra}` : ''}`;
  };
  return {
    update(done, total, extra) {
      if (total <= 0) return;
      lastLine = line(done, total, extra);
      if (Date.now() - last >= everyS * 1000) {
        last = Date.now();
        process.stderr.write(`${lastLine}\n`);
      }
    },
    stop() {
      if (lastLine && Date.now() - last > 0) process.stderr.write(`${lastLine}\n`);
    },
  };
}

/** The innermost useful messages of a Temporal failure chain, on one line. */
export function failureChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    if (e.message && !/^(Workflow execution failed|Activity task failed|Child Workflow execution failed)$/.test(e.message)) parts.push(e.message.split('\n')[0]!);
  }
  return [...new Set(parts)].join(': ') || String(err);
}
