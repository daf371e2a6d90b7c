import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { devServerDynamicConfigArgs } from '../../infra/dev-server';
import { findOrInstallTemporalCli } from '../../infra/temporal-cli';
import { installRuntime } from '../../workers/runtime';

/**
 * A real Temporal dev server for one test file: the CLI the project builds (or one on PATH), never
 * an in-process fake. With TEMPORAL_TEST_ADDRESS set it connects to that server instead: tests set
 * it for the worker processes they spawn (test/support/worker-process.ts), which must join the
 * test's own server.
 */
export async function startTestTemporal(): Promise<TestWorkflowEnvironment> {
  installRuntime({ logLevel: 'ERROR' });
  const existing = process.env.TEMPORAL_TEST_ADDRESS;
  if (existing) return TestWorkflowEnvironment.createFromExistingServer({ address: existing });
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

export function nativeConnection(env: TestWorkflowEnvironment): NativeConnection {
  return env.nativeConnection;
}

/** A unique id so reruns against a shared server never collide. */
export function uid(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
