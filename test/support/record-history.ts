// Records a runMas history for the replay test: `node --import tsx test/support/record-history.ts [file]`
// (default run-mas-history.json, in test/fixtures/). Record a new file for each versioned change to
// the workflow's command sequence; keep the old ones, they prove older histories still replay.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { findOrInstallTemporalCli } from '../../infra/temporal-cli';
import { makeCallAgent } from '../../activities/call-agent';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../../workers/worker';
import { ScriptedProvider } from './scripted-provider';
import { startTestTemporal } from './temporal';
import { REPLAY_INPUT } from '../fixtures/replay-input';

async function main(): Promise<void> {
  const env = await startTestTemporal();
  const provider = new ScriptedProvider();
  const workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: 'default' }, env.nativeConnection, {
    callAgent: makeCallAgent(() => provider),
  });
  const handle = await env.client.workflow.start('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'replay-fixture', args: [REPLAY_INPUT] });
  await handle.result();
  // The CLI's JSON export is the format Worker.runReplayHistory documents.
  const json = execFileSync(findOrInstallTemporalCli(), ['workflow', 'show', '--workflow-id', 'replay-fixture', '--address', env.address, '--output', 'json']);
  writeFileSync(path.join(__dirname, '../fixtures', process.argv[2] ?? 'run-mas-history.json'), json);
  await workers.shutdown();
  await env.teardown();
}

void main();
