/** Measurements the long benchmarks share (scale, long-campaign, report-scale). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../infra/paths';
import type { RunMasInput } from '../core/mas';
import { BUILTIN_POOLS } from '../core/pool-file';
import { rolePrompts, DECISION_ROLE_ID } from '../core/roles';
import { getBuiltinSample } from '../core/benchmarks/builtin';

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

/** The one-agent run the #17 probes time: gpt-4o-mini alone on the first sample-math query, sim-14, time factor 0. */
export function oneAgentRunInput(seed: string): RunMasInput {
  const pool = BUILTIN_POOLS['sim-14']!;
  const task = getBuiltinSample('sample-math')[0]!;
  return {
    query: task.question,
    task,
    spec: { agents: [{ id: 'decision', role: DECISION_ROLE_ID, backbone: 'gpt-4o-mini', maxTokens: 256 }], edges: [], decision: 'decision' },
    budgets: {},
    backbones: [pool.backbones.find((b) => b.id === 'gpt-4o-mini')!],
    rolePrompts: rolePrompts('math'),
    simulation: { timeFactor: 0, rate429: 0, rate5xx: 0, seed },
  };
}
