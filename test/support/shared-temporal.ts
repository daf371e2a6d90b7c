// Runs a command (the test runner) with one Temporal dev server for all of it:
//   node --import tsx test/support/shared-temporal.ts node --import tsx --test ...
// The server belongs to a fresh state folder (infra/dev-server.ts, free ports), its address goes to
// the command as TEMPORAL_TEST_ADDRESS, and each test file takes a namespace of its own there
// (test/support/temporal.ts). Starting one server instead of one per file saves a start per file;
// tests that stop or kill their server (server-restart, state-isolation) still start their own.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOrReuseDevServer, type DevServer } from '../../infra/dev-server';
import { freePort } from '../../infra/net';
import { workflowBundle } from '../../workers/worker';

async function main(command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('usage: shared-temporal.ts COMMAND [ARGS...]');
  const state = mkdtempSync(path.join(os.tmpdir(), 'ab-test-server-'));
  const callerState = process.env.AGENTBALANCE_STATE_DIR;
  let server: DevServer | undefined;
  try {
    process.env.AGENTBALANCE_STATE_DIR = state;
    // Never the default port: other checkouts run their tests on this machine at the same time.
    server = await startOrReuseDevServer({ port: await freePort(), uiPort: await freePort(), log: (m) => process.stderr.write(`${m}\n`) });
    // One workflow bundle for every worker of the run instead of one webpack build per process.
    const bundlePath = path.join(state, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await workflowBundle()).code);
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_TEST_ADDRESS: server.address, AGENTBALANCE_WORKFLOW_BUNDLE: bundlePath };
    delete env.TEMPORAL_TEST_NAMESPACE;
    if (callerState === undefined) delete env.AGENTBALANCE_STATE_DIR;
    else env.AGENTBALANCE_STATE_DIR = callerState;
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    // Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to this
    // process alone is passed on, and the server is stopped once the child has exited.
    const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
    process.on('SIGINT', () => {});
    process.on('SIGTERM', forward('SIGTERM'));
    return await new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1))));
  } finally {
    await server?.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`shared-temporal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
