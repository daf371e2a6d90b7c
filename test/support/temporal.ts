import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { devServerDynamicConfigArgs } from '../../infra/dev-server';
import { findOrInstallTemporalCli } from '../../infra/temporal-cli';
import { installRuntime } from '../../workers/runtime';

/**
 * A real Temporal dev server for one test file (the CLI the project builds, or one on PATH), never
 * an in-process fake. Under the test command (infra/test.sh, via test/support/shared-temporal.ts)
 * TEMPORAL_TEST_ADDRESS names one dev server that every test file shares: each file then gets a
 * namespace of its own there (`env.namespace`), so no file's workers ever pick up another file's
 * workflows, whatever task queue they use. A test file run alone starts its own server.
 */
export async function startTestTemporal(): Promise<TestWorkflowEnvironment> {
  installRuntime({ logLevel: 'ERROR' });
  const shared = process.env.TEMPORAL_TEST_ADDRESS;
  if (shared) {
    return TestWorkflowEnvironment.createFromExistingServer({ address: shared, namespace: await registerTestNamespace(shared) });
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findOrInstallTemporalCli() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
      // The product's dev-server settings, so tests see the same dispatch latency (#17).
      extraArgs: devServerDynamicConfigArgs(),
    },
  });
}

/** Registers a fresh namespace on a shared server (usable at once on the dev server). */
async function registerTestNamespace(address: string): Promise<string> {
  const namespace = uid('test');
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 hour') });
  } finally {
    await connection.close();
  }
  return namespace;
}

/** The namespace of a test environment (a shared server's per-file one, else `default`). */
export function testNamespace(env: TestWorkflowEnvironment): string {
  return env.namespace ?? 'default';
}

/**
 * Environment for a process a test spawns that must join the test's server and namespace (a
 * worker process, test/support/worker-process.ts).
 */
export function workerProcessEnv(env: TestWorkflowEnvironment, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, TEMPORAL_TEST_ADDRESS: env.address, TEMPORAL_TEST_NAMESPACE: testNamespace(env), ...extra };
}

export function nativeConnection(env: TestWorkflowEnvironment): NativeConnection {
  return env.nativeConnection;
}

/** A unique id so reruns against a shared server never collide. */
export function uid(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
