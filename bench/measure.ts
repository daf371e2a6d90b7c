/** Measurements the long benchmarks share (scale, long-campaign, report-scale). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/paths';

/** A process's resident memory (0 once it has exited). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The dev server's SQLite database in a state folder, its write-ahead log included. */
export function devServerDbBytes(state: string): number {
  return ['temporal.sqlite', 'temporal.sqlite-wal'].reduce((s, f) => {
    try {
      return s + fs.statSync(path.join(state, f)).size;
    } catch {
      return s;
    }
  }, 0);
}

/** `agentbalance report ID` in a process of its own, as a user runs it; /usr/bin/time gives its peak RSS. */
export function timeReport(state: string, campaignId: string): { seconds: number; peakRssMiB: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(PROJECT_ROOT, 'bin/agentbalance.cjs'), 'report', campaignId], {
    env: { ...process.env, AGENTBALANCE_STATE_DIR: state },
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`report failed: ${r.stderr.slice(-500)}`);
  return { seconds: Number(seconds.toFixed(1)), peakRssMiB: Math.round(Number(r.stderr.trim().split('\n').at(-1)) / 1024) };
}
