// A worker in its own process, so a test can kill it (SIGKILL: a crash, no graceful drain).
import { NativeConnection } from '@temporalio/worker';
import { makeCallAgent } from '../../activities/call-agent';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../../workers/worker';
import { installRuntime } from '../../workers/runtime';
import { ScriptedProvider } from './scripted-provider';

async function main(): Promise<void> {
  installRuntime({ logLevel: 'ERROR' });
  const address = process.env.TEMPORAL_TEST_ADDRESS!;
  const namespace = process.env.TEMPORAL_TEST_NAMESPACE ?? 'default';
  const provider = new ScriptedProvider();
  const conn = await NativeConnection.connect({ address });
  // WORKER_PROVIDER=real uses the product's provider registry (the simulated pool); default: scripted.
  const overrides = process.env.WORKER_PROVIDER === 'real' ? {} : { callAgent: makeCallAgent(() => provider) };
  const running = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address, namespace, identity: `worker-${process.pid}` },
    conn,
    overrides,
  );
  process.stdout.write('ready\n');
  await running.done;
}

void main();
