import { z } from 'zod';

/**
 * Every environment variable the product reads, in one place (README "Configuration" lists what
 * each does). Values stay the raw strings: each reader keeps its own meaning of an empty value and
 * its own error message for a bad one (client/preflight.ts checks ports, URLs and the state
 * folder up front). Read on each call, not cached, so a test or an embedding service that sets a
 * variable later is seen. Not here: API keys (a backbone names its own variable; providers read
 * them through an injectable `env`) and PATH.
 */
const ProductEnvSchema = z.object({
  /** Durable local state: dev server, results, designers, profiles (infra/paths.ts). */
  AGENTBALANCE_STATE_DIR: z.string().optional(),
  /** PostgreSQL instead of SQLite for the results and keys stores. */
  AGENTBALANCE_DATABASE_URL: z.string().optional(),
  /** Python for the code grader. */
  AGENTBALANCE_PYTHON: z.string().optional(),
  /** `1`: cache real providers' responses in the state folder. */
  AGENTBALANCE_RESPONSE_CACHE: z.string().optional(),
  /** Serve the embedded worker's Prometheus metrics on this port / host. */
  AGENTBALANCE_METRICS_PORT: z.string().optional(),
  AGENTBALANCE_METRICS_HOST: z.string().optional(),
  /** Seconds between progress lines of a foreground campaign. */
  AGENTBALANCE_PROGRESS_EVERY_S: z.string().optional(),
  /** Print the stack of an unexpected error. */
  AGENTBALANCE_DEBUG: z.string().optional(),
  /** History retention of the local dev server's namespace. */
  AGENTBALANCE_DEV_RETENTION: z.string().optional(),
  /**
   * A workflow bundle built beforehand (a file with `bundleWorkflowCode`'s code): workers load it
   * instead of bundling (seconds each). It must come from this very code; the test command builds
   * one per run.
   */
  AGENTBALANCE_WORKFLOW_BUNDLE: z.string().optional(),
  /** Where the local model server's engine is installed. */
  AGENTBALANCE_ENGINE_DIR: z.string().optional(),
  /** An external Temporal service instead of the local dev server. */
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().optional(),
  /** OpenTelemetry GenAI semantic-convention opt-in (activities/metrics.ts). */
  OTEL_SEMCONV_STABILITY_OPT_IN: z.string().optional(),
  /** The Prometheus binary for the local Prometheus. */
  PROMETHEUS: z.string().optional(),
});

export type ProductEnv = z.infer<typeof ProductEnvSchema>;

/** The product's variables from `env` (default: this process's environment). */
export function productEnv(env: NodeJS.ProcessEnv = process.env): ProductEnv {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(ProductEnvSchema.shape)) picked[key] = env[key];
  return ProductEnvSchema.parse(picked);
}
