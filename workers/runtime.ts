import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * Installs the Temporal Core runtime once per process: SDK log level, and optionally Temporal's
 * own SDK metrics on a Prometheus endpoint of their own (kept apart from the product's metrics).
 */
export function installRuntime(opts: { logLevel?: LogLevel; sdkMetricsPort?: number; sdkMetricsHost?: string } = {}): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(opts.logLevel ?? 'WARN'),
    // Core (Rust) logs go through that logger, i.e. to stderr: by default Core prints them to
    // stdout itself, which corrupted `--json` output (e.g. `WARN … Workflow task not found`).
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(opts.sdkMetricsPort !== undefined
        ? {
            metrics: {
              prometheus: { bindAddress: `${hostForAddress(opts.sdkMetricsHost ?? '127.0.0.1')}:${opts.sdkMetricsPort}` },
            },
          }
        : {}),
    },
  });
}

/** An IPv6 literal goes in brackets in a host:port address. */
function hostForAddress(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
