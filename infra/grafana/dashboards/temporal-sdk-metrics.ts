/**
 * The Temporal SDK metrics the Grafana dashboard (agentbalance.json, next to this file) may use:
 * what the TypeScript SDK's Core runtime (1.24) exports on its Prometheus endpoint
 * (`agentbalance worker --sdk-metrics-port 9465`), with the `temporal_` prefix and durations in
 * milliseconds. Checked against a real scrape by test/temporal/metrics.test.ts; the dashboard test
 * (test/unit/dashboards.test.ts) allows these and the product's own metrics, nothing else.
 */
export const TEMPORAL_SDK_METRICS = {
  temporal_worker_task_slots_available: 'gauge',
  temporal_worker_task_slots_used: 'gauge',
  temporal_num_pollers: 'gauge',
  temporal_sticky_cache_size: 'gauge',
  temporal_activity_execution_failed: 'counter',
  temporal_workflow_completed: 'counter',
  temporal_activity_execution_latency: 'histogram',
  temporal_activity_schedule_to_start_latency: 'histogram',
  temporal_local_activity_execution_latency: 'histogram',
  temporal_workflow_task_execution_latency: 'histogram',
  temporal_workflow_task_schedule_to_start_latency: 'histogram',
} as const satisfies Record<string, 'counter' | 'gauge' | 'histogram'>;

/** Every series name the SDK metrics above expose (histograms with _bucket/_sum/_count). */
export function temporalSdkSeriesNames(): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of Object.entries(TEMPORAL_SDK_METRICS)) {
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
  }
  return out;
}
