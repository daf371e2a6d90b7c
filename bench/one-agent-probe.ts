/**
 * Where the one-agent run's milliseconds go (#17): the one-agent runMas of bench/hops.ts (simulated
 * pool, time factor 0, client on the worker's connection with eager start), split into the client's
 * start call, the worker's workflow task (from the history: WorkflowTaskStarted → Completed), the
 * local activities inside it (timed where they run) and the wait for the result after the workflow
 * completed. Run back to back, as the benchmark does.
 *
 *   node --import tsx bench/one-agent-probe.ts [runs]
 *
 * Prints one line per phase (p50 / p90 ms) and the load; writes nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-probe1-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import * as probeActivities from './probe/activities';
import { makeCallAgent } from '../activities/call-agent';
import { gradeAnswer } from '../activities/grading';
import { getProvider } from '../activities/providers';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { startOrReuseDevServer } from '../infra/dev-server';
import { freePort } from '../infra/net';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import { oneAgentRunInput } from './measure';

const EventType = temporal.api.enums.v1.EventType;
const RUNS = Number(process.argv[2] ?? 30);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10;
}

async function main(): Promise<void> {
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  installRuntime({ logLevel: (process.env.PROBE_LOG as 'WARN' | undefined) ?? 'ERROR' });
  const server = await startOrReuseDevServer({ port: await freePort(), log: () => {} });
  // Activity spans, timed where the activities run (epoch ms, comparable with history timestamps).
  const spans: { name: string; t0: number; t1: number }[] = [];
  const timed = <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = Date.now() + (performance.now() % 1);
      try {
        return await fn(...a);
      } finally {
        spans.push({ name, t0, t1: Date.now() });
      }
    };
  const callAgent = timed('callAgent', makeCallAgent((b) => getProvider(b.provider)));
  const conn = await NativeConnection.connect({ address: server.address });
  const workers = await startWorkers(
    { ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: server.address, namespace: 'default' },
    conn,
    { callAgent, gradeAnswer: timed('gradeAnswer', gradeAnswer) },
  );
  const client = new Client({ connection: conn });
  const input = oneAgentRunInput('probe');
  const phases: Record<string, number[]> = {};
  const add = (k: string, v: number) => (phases[k] ??= []).push(v);
  for (let i = -5; i < RUNS; i++) {
    spans.length = 0;
    const workflowId = `probe-${process.pid}-${i}`;
    const t0 = Date.now();
    const p0 = performance.now();
    const handle = await client.workflow.start('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId, args: [input], requestEagerStart: true });
    const p1 = performance.now();
    await handle.result();
    const p2 = performance.now();
    if (i < 0) continue;
    const history = await handle.fetchHistory();
    const ev = history.events!;
    const at = (t: number) => ev.filter((e) => e.eventType === t).map((e) => tsToMs(e.eventTime));
    const started = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)[0]!;
    const wftStarted = at(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    const wftCompleted = at(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    const closed = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)[0]!;
    add('total (client)', p2 - p0);
    add('start call (client)', p1 - p0);
    add('result wait after start returned (client)', p2 - p1);
    add('server: request sent → WorkflowExecutionStarted', started - t0);
    add('workflow tasks', wftStarted.length);
    add('worker: WFT started → last WFT completed', wftCompleted.at(-1)! - wftStarted[0]!);
    add('server: WorkflowExecutionCompleted → client has result', t0 + (p2 - p0) - closed);
    add('markers', ev.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED).length);
    const s = spans.sort((a, b) => a.t0 - b.t0);
    const call = s.find((x) => x.name === 'callAgent');
    const grade = s.find((x) => x.name === 'gradeAnswer');
    if (call) {
      add('WFT started → callAgent begins (activation 1 + LA dispatch)', call.t0 - wftStarted[0]!);
      add('callAgent runs', call.t1 - call.t0);
    }
    if (call && grade) {
      add('callAgent done → gradeAnswer begins (same local activity since #17)', grade.t0 - call.t1);
      add('gradeAnswer runs', grade.t1 - grade.t0);
      add('gradeAnswer done → WFT completed (activation 2 + completion RPC)', wftCompleted.at(-1)! - grade.t1);
    }
  }
  // The floor: a bare workflow with k no-op local activities in sequence (bench/probe/workflows.ts)
  // on a worker of its own on the same connection, started eagerly the same way.
  const bare = await Worker.create({
    connection: conn,
    taskQueue: 'probe-bare',
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./probe/workflows'), logger: new DefaultLogger('ERROR') }),
    activities: probeActivities,
  });
  const bareRun = bare.run();
  for (const k of [0, 1, 2, 3]) {
    for (let i = -5; i < RUNS; i++) {
      const p0 = performance.now();
      await client.workflow.execute('chain', { taskQueue: 'probe-bare', workflowId: `bare-${process.pid}-${k}-${i}`, args: [k, 'probe-bare', true], requestEagerStart: true });
      if (i >= 0) add(`bare workflow, ${k} sequential local activities (client)`, performance.now() - p0);
    }
  }
  bare.shutdown();
  await bareRun;
  for (const [k, v] of Object.entries(phases)) console.log(`${k.padEnd(70)} p50 ${pct(v, 0.5).toFixed(1).padStart(6)}  p90 ${pct(v, 0.9).toFixed(1).padStart(6)}`);
  console.log(`load before: ${loadBefore}; after: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  await workers.shutdown();
  await conn.close();
  await server.stop();
  fs.rmSync(STATE, { recursive: true, force: true });
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
