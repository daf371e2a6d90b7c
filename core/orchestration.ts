/**
 * What Temporal orchestration adds to a run's wall time, per agent hop on the critical path, as
 * measured by bench/hops.ts (#17) for runs that wait in real time (real providers; the simulated
 * pool at time factor > 0), whose calls are regular activities: runMas wall time minus a direct
 * in-process execution of the same DAG, divided by the DAG's depth. Real seconds, measured on a
 * shared, heavily loaded 2-core machine (bench/results/hops.json has the load), so on the high side.
 * At time factor 0 the run's clock is modelled and orchestration adds nothing to it.
 * Re-measure with `npm run bench` when the server, SDK or worker settings change.
 */
export const ORCHESTRATION_HOP_S = {
  /** Median overhead per hop: what the latency predictor adds per agent on the critical path. */
  p50: 0.065,
  /** 99th percentile: what the soft deadline reserves, so deadlines hold on a bad hop. */
  p99: 0.17,
} as const;

/**
 * Hops the workflow needs after the soft deadline: the timer firing and the decision agent's
 * dispatch, then the decision's result returning and the run's result reaching the caller.
 */
export const HOPS_AFTER_SOFT_DEADLINE = 2;

/** Seconds of orchestration a real-time call adds on the critical path (0 for the simulated pool, or a profile without a provider). */
export function orchestrationHopS(provider: string | undefined): number {
  return provider === undefined || provider === 'simulated' ? 0 : ORCHESTRATION_HOP_S.p50;
}
