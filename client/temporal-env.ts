import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startOrReuseDevServer, type DevServer } from '../infra/dev-server';
import { DEFAULT_WORKER_CONFIG, startWorkers, type RunningWorkers } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import { UserError } from './errors';
import { configuredServer, TEMPORAL_PROBE_MS } from './preflight';
import { DEFAULT_METRICS_HOST, startMetricsServer, type MetricsServer } from '../workers/metrics-server';
import { productEnv } from '../infra/env';

export interface TemporalEnv {
  client: Client;
  address: string;
  namespace: string;
  /** Set when we started an embedded dev server. */
  uiUrl?: string;
  embedded: boolean;
  /**
   * The client shares the in-process worker's connection, so a workflow start can hand its first
   * task straight to that worker (eager start, #17): one server dispatch less per run.
   */
  eagerStart: boolean;
}

/**
 * Connects to TEMPORAL_ADDRESS and checks that a Temporal server answers there (the SDK's own check
 * lets an HTTP server that answers 404 pass as an "old server"), naming the variable when not.
 */
async function connectConfigured(address: string): Promise<Connection> {
  const fail = (e: unknown) =>
    new UserError(`TEMPORAL_ADDRESS=${address}: no Temporal server answers there (${e instanceof Error ? (e.cause instanceof Error ? e.cause : e).message.split('\n')[0] : String(e)})`);
  const connection = await Connection.connect({ address, connectTimeout: TEMPORAL_PROBE_MS }).catch((e: unknown) => {
    throw fail(e);
  });
  try {
    await connection.withDeadline(Date.now() + TEMPORAL_PROBE_MS, () => connection.workflowService.getSystemInfo({}));
  } catch (e) {
    await connection.close().catch(() => undefined);
    throw fail(e);
  }
  return connection;
}

/**
 * Runs `fn` with a Temporal client. With TEMPORAL_ADDRESS set it only connects (workers run
 * elsewhere: `agentbalance worker`). Otherwise it starts or reuses the local dev server and runs an
 * in-process worker, and stops whatever it started when `fn` settles or the process is interrupted.
 */
export async function withTemporal<T>(
  fn: (env: TemporalEnv) => Promise<T>,
  opts: {
    log?: (m: string) => void;
    onInterrupt?: () => void;
    /** false: the caller handles SIGINT/SIGTERM itself (the gateway drains before `fn` settles). */
    handleSignals?: boolean;
  } = {},
): Promise<T> {
  const handleSignals = opts.handleSignals ?? true;
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const configured = configuredServer();
  if (configured) {
    const connection = await connectConfigured(configured.address);
    const onSignal = () => {
      opts.onInterrupt?.();
      void connection.close().then(() => process.exit(130));
    };
    if (handleSignals) process.once('SIGINT', onSignal);
    try {
      const client = new Client({ connection, namespace: configured.namespace });
      return await fn({ client, address: configured.address, namespace: configured.namespace, embedded: false, eagerStart: false });
    } finally {
      process.off('SIGINT', onSignal);
      await connection.close();
    }
  }
  installRuntime({ logLevel: 'ERROR' });
  let server: DevServer | undefined;
  let workers: RunningWorkers | undefined;
  let nativeConn: NativeConnection | undefined;
  let metrics: MetricsServer | undefined;
  const cleanup = async () => {
    await workers?.shutdown().catch(() => undefined);
    await metrics?.close().catch(() => undefined);
    await nativeConn?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  };
  const onSignal = () => {
    opts.onInterrupt?.();
    void cleanup().then(() => process.exit(130));
  };
  if (handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    server = await startOrReuseDevServer({ log });
    if (server.owned) log(`agentbalance: started the Temporal dev server at ${server.address} (UI ${server.uiUrl})`);
    nativeConn = await NativeConnection.connect({ address: server.address });
    workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, address: server.address, namespace: 'default' }, nativeConn);
    // The in-process worker serves the product metrics only when asked to.
    const metricsPort = productEnv().AGENTBALANCE_METRICS_PORT;
    if (metricsPort) {
      if (!/^\d+$/.test(metricsPort) || Number(metricsPort) > 65535) {
        throw new UserError(`AGENTBALANCE_METRICS_PORT: expected a port number 0-65535, got "${metricsPort}"`);
      }
      metrics = await startMetricsServer({
        host: productEnv().AGENTBALANCE_METRICS_HOST ?? DEFAULT_METRICS_HOST,
        port: Number(metricsPort),
      });
      log(`agentbalance: metrics on ${metrics.url}`);
    }
    // The client uses the worker's connection: eager workflow start needs it, and it saves a second one.
    const client = new Client({ connection: nativeConn, namespace: 'default' });
    return await fn({ client, address: server.address, namespace: 'default', uiUrl: server.uiUrl, embedded: true, eagerStart: true });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
