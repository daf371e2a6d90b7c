import type { RunMasResult } from '../core/mas';

const usd = (v: number): string => (v === 0 ? '$0' : v < 0.01 ? `$${v.toPrecision(3)}` : `$${v.toFixed(4)}`);

/** Human-readable result of one run; says SIMULATED loudly when the simulated pool answered. */
export function formatRunResult(r: RunMasResult, meta: { pool: string; taskId?: string }): string {
  const lines: string[] = [];
  if (r.simulated) lines.push(`SIMULATED (pool ${meta.pool}): these are not real LLM outputs.`);
  if (meta.taskId) lines.push(`task ${meta.taskId}`);
  lines.push('topology:');
  for (const a of r.topology.agents) {
    const to = r.topology.edges.filter(([f]) => f === a.id).map(([, t]) => t);
    lines.push(`  ${a.id} (${a.role}) on ${a.backbone}${to.length ? ` -> ${to.join(', ')}` : ''}`);
  }
  lines.push('agents:');
  lines.push('  id                 status              tokens in/out   cost        latency  attempts');
  for (const a of r.agents) {
    lines.push(
      `  ${a.id.padEnd(18)} ${a.status.padEnd(19)} ${`${a.inputTokens}/${a.outputTokens}`.padEnd(15)} ${usd(a.costUsd).padEnd(11)} ${`${a.latencyS.toFixed(2)}s`.padEnd(8)} ${a.attempts}`,
    );
  }
  lines.push('answer:');
  lines.push(...(r.answer.trim() || '(no answer)').split('\n').map((l) => `  ${l}`));
  const flags = [
    r.deadlineHit ? 'deadline hit' : '',
    r.budgetExhausted ? 'budget exhausted' : '',
    r.costOvershoots ? `${r.costOvershoots} call(s) cost more than reserved` : '',
  ].filter(Boolean);
  lines.push(
    `cost ${usd(r.costUsd)} · latency ${r.latencyS.toFixed(2)}s${r.correct !== undefined ? ` · ${r.correct ? 'correct' : 'wrong'}` : ''}${flags.length ? ` · ${flags.join(', ')}` : ''}`,
  );
  return lines.join('\n');
}
