/**
 * What Temporal orchestration adds to a run's wall time, per agent hop on the critical path, as
 * measured by bench/hops.ts (#17) for runs that wait in real time (real providers; the simulated
 * pool at time factor > 0), whose calls are regular activities: runMas wall time minus a direct
 * in-process execution of the same DAG, divided by the DAG's depth. Real seconds, measured on a
 * shared 2-core machine (bench/results/hops.json), so on the high side: a per-hop figure here also
 * carries the run's fixed start and finish costs (overhead / depth).
 * At time factor 0 the run's clock is modelled and orchestration adds nothing to it.
 * Re-measure with `npm run bench` when the server, SDK or worker settings change.
 */
export const ORCHESTRATION_HOP_S = {
  /** Median overhead per hop: what the latency predictor adds per agent on the critical path (0.076 s at load 11-14). */
  p50: 0.08,
  /**
   * 99th percentile: what the soft deadline reserves, so deadlines hold on a bad hop. Kept at the
   * figure measured at load 30 (the busiest this machine gets); at load 11-14 it was 0.17 s.
   */
  p99: 0.5,
} as const;

/**
 * Hops the workflow needs after the soft deadline: the decision agent's (its dispatch and result;
 * the measured per-hop figure includes the timer and the run's result reaching the caller).
 */
export const HOPS_AFTER_SOFT_DEADLINE = 1;

/** Seconds of orchestration a real-time call adds on the critical path (0 for the simulated pool, or a profile without a provider). */
export function orchestrationHopS(provider: string | undefined): number {
  return provider === undefined || provider === 'simulated' ? 0 : ORCHESTRATION_HOP_S.p50;
}
