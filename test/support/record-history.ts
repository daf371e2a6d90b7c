// Records workflow histories for the replay tests, in test/fixtures/:
//   node --import tsx test/support/record-history.ts [FILE.json [TIME_FACTOR]]   a runMas history (default
//     run-mas-history.json); a time factor > 0 records the run waiting in real time (regular activity calls, #17)
//   node --import tsx test/support/record-history.ts campaign|campaign-batches|profile|profile-legacy|design|out-of-order|deadline|graded
// Record a new file for each versioned change to a workflow's command sequence; keep the old ones,
// they prove older histories still replay.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const STATE = mkdtempSync(path.join(os.tmpdir(), 'ab-record-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { findOrInstallTemporalCli } from '../../infra/temporal-cli';
import { makeCallAgent } from '../../activities/call-agent';
import { resultsStore } from '../../activities/campaign';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../../workers/worker';
import { ScriptedProvider } from './scripted-provider';
import { startTestTemporal, testNamespace } from './temporal';
import { REPLAY_INPUT, REPLAY_CAMPAIGN, REPLAY_CAMPAIGN_BATCHES, REPLAY_OUT_OF_ORDER, REPLAY_DEADLINE, REPLAY_GRADED } from '../fixtures/replay-input';

async function main(which: string): Promise<void> {
  const env = await startTestTemporal();
  const provider = new ScriptedProvider();
  // The campaign uses the simulated pool (seeded); runMas the scripted provider.
  const workers = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: testNamespace(env) },
    env.nativeConnection,
    which.startsWith('campaign') ? {} : { callAgent: makeCallAgent(() => provider) },
  );
  const show = (id: string, file: string): void => {
    // The CLI's JSON export is the format Worker.runReplayHistory documents.
    const json = execFileSync(findOrInstallTemporalCli(), ['workflow', 'show', '--workflow-id', id, '--address', env.address, '--namespace', testNamespace(env), '--output', 'json']);
    writeFileSync(path.join(__dirname, '../fixtures', file), json);
  };
  if (which === 'profile') {
    // Keyed profiling: one query per backbone, continue-as-new after 8 calls.
    const args = { pool: 'sim-14', benchmark: 'sample-math', seed: '0', limit: 1, concurrency: 4, profileId: 'profile-replay-fixture', runsPerHistory: 8 };
    const handle = await env.client.workflow.start('profilePool', { taskQueue: MAIN_TASK_QUEUE, workflowId: args.profileId, args: [args] });
    await handle.result();
    const json = execFileSync(findOrInstallTemporalCli(), ['workflow', 'show', '--workflow-id', args.profileId, '--run-id', handle.firstExecutionRunId, '--address', env.address, '--namespace', testNamespace(env), '--output', 'json']);
    writeFileSync(path.join(__dirname, '../fixtures/profile-history.json'), json);
    show(`${args.profileId}.0`, 'profile-call-history.json');
  } else if (which === 'profile-legacy') {
    // Profiling without a profileId: the path histories from before PROFILE_KEYS_PATCH take.
    const args = { pool: 'sim-14', benchmark: 'sample-math', seed: '0', limit: 1, concurrency: 4 };
    await env.client.workflow.execute('profilePool', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'profile-legacy-replay-fixture', args: [args] });
    show('profile-legacy-replay-fixture', 'profile-legacy-history.json');
  } else if (which === 'design') {
    const args = { pool: 'sim-14', benchmark: 'sample-math', seed: '0', steps: 3 };
    await env.client.workflow.execute('designPool', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'design-replay-fixture', args: [args] });
    show('design-replay-fixture', 'design-history.json');
  } else if (which === 'campaign') {
    const { campaignId } = REPLAY_CAMPAIGN;
    const handle = await env.client.workflow.start('campaign', { taskQueue: MAIN_TASK_QUEUE, workflowId: campaignId, args: [REPLAY_CAMPAIGN] });
    await handle.result();
    show(campaignId, 'campaign-history.json');
    const [first] = await (await resultsStore()).getRuns(campaignId, { agents: false });
    show(`${campaignId}.${first!.runKeyId}`, 'campaign-run-history.json');
  } else if (which === 'campaign-batches') {
    const { campaignId } = REPLAY_CAMPAIGN_BATCHES;
    const handle = await env.client.workflow.start('campaign', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: campaignId,
      args: [REPLAY_CAMPAIGN_BATCHES],
    });
    await handle.result();
    show(campaignId, 'campaign-batches-history.json');
    for await (const e of env.client.workflow.list({ query: `WorkflowType = 'campaignBatch'` })) {
      show(e.workflowId, 'campaign-batch-history.json');
      break;
    }
  } else if (which === 'deadline') {
    const handle = await env.client.workflow.start('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'replay-fixture', args: [REPLAY_DEADLINE] });
    await handle.result();
    show('replay-fixture', 'run-mas-deadline-history.json');
  } else if (which === 'graded') {
    await env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'replay-fixture', args: [REPLAY_GRADED] });
    show('replay-fixture', 'run-mas-graded-history.json');
  } else if (which === 'out-of-order') {
    const handle = await env.client.workflow.start('runMas', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: 'replay-fixture',
      args: [REPLAY_OUT_OF_ORDER],
    });
    await handle.result();
    show('replay-fixture', 'run-mas-out-of-order-history.json');
  } else {
    const timeFactor = Number(process.argv[3] ?? '0');
    const input = timeFactor > 0 ? { ...REPLAY_INPUT, simulation: { ...REPLAY_INPUT.simulation!, timeFactor } } : REPLAY_INPUT;
    const handle = await env.client.workflow.start('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: 'replay-fixture', args: [input] });
    await handle.result();
    show('replay-fixture', which.endsWith('.json') ? which : 'run-mas-history.json');
  }
  await workers.shutdown();
  await env.teardown();
  rmSync(STATE, { recursive: true, force: true });
}

void main(process.argv[2] ?? 'run-mas');
