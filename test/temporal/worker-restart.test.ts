import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import type { MasSpec, RunMasInput, RunMasResult } from '../../core/mas';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import { scriptedBackbone } from '../support/scripted-provider';
import { startTestTemporal, uid, workerProcessEnv } from '../support/temporal';
import { waitForHistory } from '../support/wait';

let env: TestWorkflowEnvironment;
const children: ChildProcess[] = [];

before(async () => {
  env = await startTestTemporal();
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.teardown();
});

function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-process.ts')], {
    env: workerProcessEnv(env),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function scheduledAgent(e: HistoryEvent): string | undefined {
  const payload = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
  if (!payload?.data) return undefined;
  return (JSON.parse(Buffer.from(payload.data).toString()) as { agentId?: string }).agentId;
}

test('a worker killed in the middle of a runMas: the run completes once and no finished agent is redone', async () => {
  const first = await startWorkerProcess();
  const spec: MasSpec = {
    agents: [
      { id: 'a', role: 'solver', backbone: 'm' },
      { id: 'b', role: 'solver', backbone: 'm' },
      { id: 'd', role: 'decider', backbone: 'm' },
    ],
    edges: [['a', 'b'], ['b', 'd']],
    decision: 'd',
  };
  const input: RunMasInput = {
    query: 'What is 6 * 7?',
    spec,
    // 15 modelled s per call at 0.1 real s per modelled s: 1.5 s per call.
    backbones: [scriptedBackbone('m', 'lat=15;answer=Answer: 42')],
    rolePrompts: { solver: 'You solve problems.', decider: 'You decide.' },
    simulation: { timeFactor: 0.1, rate429: 0, rate5xx: 0, seed: '1' },
  };
  const workflowId = uid('restart');
  const handle = await env.client.workflow.start('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId, args: [input] });

  // Wait until agent a has completed and b has been scheduled, then crash the worker mid-call.
  await waitForHistory(handle, (events) => events.some((e) => scheduledAgent(e) === 'b'));
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  await startWorkerProcess();

  const res = (await handle.result()) as RunMasResult;
  assert.equal(res.answer, 'Answer: 42 (from m)');
  assert.deepEqual(res.agents.map((a) => a.status), ['ok', 'ok', 'ok']);
  const events = (await handle.fetchHistory()).events ?? [];
  const perAgent = new Map<string, number>();
  for (const e of events) {
    const id = scheduledAgent(e);
    if (id) perAgent.set(id, (perAgent.get(id) ?? 0) + 1);
  }
  // a finished before the crash: its result came from history, not from a second call.
  assert.equal(perAgent.get('a'), 1);
  // b was lost with the worker: the heartbeat timeout surfaced it and the workflow retried it.
  assert.equal(perAgent.get('b'), 2);
  assert.equal(res.agents.find((x) => x.id === 'b')!.attempts, 2);
  assert.equal(perAgent.get('d'), 1);
  assert.equal(events.filter((e) => e.workflowExecutionCompletedEventAttributes).length, 1);
});
