/**
 * Hop probe (#17): why does every task of back-to-back work wait ~45 ms between scheduled and
 * started? A bare workflow of k sequential no-op activities on a fresh, in-memory dev server, run
 * back to back, varying ONE thing at a time (worker poller settings, sticky cache, activity queue,
 * local activities, eager start/dispatch, server dynamic config). For each variant it reports the
 * p50 wall time of a k-activity workflow and the p50/p90 scheduled-to-started wait of workflow and
 * activity tasks, read from the workflow histories.
 *
 *   node --import tsx bench/hop-probe.ts                 # every variant
 *   node --import tsx bench/hop-probe.ts baseline rps-1000  # some of them
 *
 * Results: bench/results/hop-probe.json (with /proc/loadavg, since the machine is shared).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, Worker, type WorkerOptions } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { findOrInstallTemporalCli } from '../infra/temporal-cli';
import * as activities from './probe/activities';
import { freePort } from '../infra/net';

const EventType = temporal.api.enums.v1.EventType;

interface Variant {
  name: string;
  what: string;
  serverArgs?: string[];
  worker?: Partial<WorkerOptions>;
  /** Activities on a queue of their own (no eager dispatch possible). */
  otherQueue?: boolean;
  local?: boolean;
  eagerStart?: boolean;
}

const dc = (kv: string): string[] => ['--dynamic-config-value', kv];

const VARIANTS: Variant[] = [
  { name: 'baseline', what: 'defaults: activities on the workflow queue, SDK default pollers, dev server defaults' },
  { name: 'other-queue', what: 'activities on another task queue (no eager activity dispatch)', otherQueue: true },
  { name: 'no-eager-activity', what: 'maxEagerActivityReservationsPerWorkflowTask=0', worker: { maxEagerActivityReservationsPerWorkflowTask: 0 } },
  { name: 'local', what: 'local activities', local: true },
  { name: 'polls-1', what: 'maxConcurrentWorkflowTaskPolls=1, maxConcurrentActivityTaskPolls=1', worker: { maxConcurrentWorkflowTaskPolls: 1, maxConcurrentActivityTaskPolls: 1 } },
  { name: 'polls-16', what: 'maxConcurrentWorkflowTaskPolls=16, maxConcurrentActivityTaskPolls=16', worker: { maxConcurrentWorkflowTaskPolls: 16, maxConcurrentActivityTaskPolls: 16 } },
  { name: 'autoscaling', what: 'workflow/activity poller behavior autoscaling', worker: { workflowTaskPollerBehavior: { type: 'autoscaling' }, activityTaskPollerBehavior: { type: 'autoscaling' } } },
  { name: 'no-sticky', what: 'maxCachedWorkflows=0 (no sticky queue)', worker: { maxCachedWorkflows: 0 } },
  { name: 'sticky-ratio-1', what: 'nonStickyToStickyPollRatio=1', worker: { nonStickyToStickyPollRatio: 1 } },
  { name: 'eager-start', what: 'eager workflow start (client on the worker\'s NativeConnection)', eagerStart: true },
  { name: 'one-partition', what: 'matching.numTaskqueueReadPartitions=1, WritePartitions=1', serverArgs: [...dc('matching.numTaskqueueReadPartitions=1'), ...dc('matching.numTaskqueueWritePartitions=1')] },
  { name: 'sqlite-file', what: 'dev server on a SQLite file (WAL, synchronous=normal) instead of in memory', serverArgs: ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] },
  { name: 'rps-1000', what: 'history.transferProcessorMaxPollRPS=1000 (default 20)', serverArgs: dc('history.transferProcessorMaxPollRPS=1000') },
  { name: 'rps-1000-other-queue', what: 'rps-1000 and activities on another queue', serverArgs: dc('history.transferProcessorMaxPollRPS=1000'), otherQueue: true },
  { name: 'rps-1000-sqlite', what: 'rps-1000 on a SQLite file', serverArgs: [...dc('history.transferProcessorMaxPollRPS=1000'), '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] },
  { name: 'eager-activity-on', what: 'system.enableActivityEagerExecution=true (off by default)', serverArgs: dc('system.enableActivityEagerExecution=true') },
  { name: 'rps-1000-eager-activity', what: 'rps-1000 and system.enableActivityEagerExecution=true', serverArgs: [...dc('history.transferProcessorMaxPollRPS=1000'), ...dc('system.enableActivityEagerExecution=true')] },
  { name: 'rps-1000-local', what: 'rps-1000 and local activities', serverArgs: dc('history.transferProcessorMaxPollRPS=1000'), local: true },
  { name: 'rps-1000-local-main-thread', what: 'rps-1000, local activities, workflows on the main thread (debugMode: no worker-thread hop per activation)', serverArgs: dc('history.transferProcessorMaxPollRPS=1000'), local: true, worker: { debugMode: true } },
];

const K = Number(process.env.PROBE_K ?? 4);
const RUNS = Number(process.env.PROBE_RUNS ?? 15);

function q(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10;
}

async function startServer(extra: string[], tmp: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error', ...extra];
  if (extra.includes('--sqlite-pragma')) args.push('--db-filename', path.join(tmp, `t-${port}.sqlite`));
  const child = spawn(findOrInstallTemporalCli(), args, { stdio: 'ignore' });
  const address = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.getSystemInfo({});
      await c.close();
      break;
    } catch {
      if (i > 240) throw new Error('dev server did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

interface Row { name: string; what: string; k: number; runs: number; wallP50Ms: number; wallP90Ms: number; perHopMs: number; wftWaitP50Ms: number; wftWaitP90Ms: number; actWaitP50Ms: number; actWaitP90Ms: number; wfts: number }

async function probe(v: Variant, bundle: Awaited<ReturnType<typeof bundleWorkflowCode>>, tmp: string): Promise<Row> {
  const server = await startServer(v.serverArgs ?? [], tmp);
  const conn = await NativeConnection.connect({ address: server.address });
  const tq = `probe-${v.name}`;
  const aq = v.otherQueue ? `${tq}-act` : tq;
  const workers = [await Worker.create({ connection: conn, taskQueue: tq, workflowBundle: bundle, activities, ...v.worker })];
  if (v.otherQueue) workers.push(await Worker.create({ connection: conn, taskQueue: aq, activities, ...v.worker }));
  const running = workers.map((w) => w.run());
  const client = v.eagerStart ? new Client({ connection: conn as unknown as Connection }) : new Client({ connection: await Connection.connect({ address: server.address }) });
  const wall: number[] = [];
  const wft: number[] = [];
  const act: number[] = [];
  let wfts = 0;
  const one = async (k: number, id: string): Promise<number> => {
    const t0 = performance.now();
    const h = await client.workflow.start('chain', { taskQueue: tq, workflowId: id, args: [k, aq, !!v.local], ...(v.eagerStart ? { requestEagerStart: true } : {}) });
    await h.result();
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i++) await one(K, `${tq}-warm-${i}`);
  for (let i = 0; i < RUNS; i++) {
    const id = `${tq}-${i}`;
    wall.push(await one(K, id));
  }
  for (let i = 0; i < RUNS; i++) {
    const hist = await client.workflow.getHandle(`${tq}-${i}`).fetchHistory();
    const at = new Map<number, number>();
    for (const e of hist.events ?? []) {
      const t = tsToMs(e.eventTime);
      const id = Number(e.eventId);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED || e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) at.set(id, t);
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
        wfts++;
        wft.push(t - at.get(Number(e.workflowTaskStartedEventAttributes!.scheduledEventId))!);
      }
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) act.push(t - at.get(Number(e.activityTaskStartedEventAttributes!.scheduledEventId))!);
    }
  }
  // Per hop: the k-activity run against the 1-activity run.
  const wall1: number[] = [];
  for (let i = 0; i < RUNS; i++) wall1.push(await one(1, `${tq}-one-${i}`));
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await conn.close();
  await server.stop();
  return {
    name: v.name, what: v.what, k: K, runs: RUNS,
    wallP50Ms: q(wall, 0.5), wallP90Ms: q(wall, 0.9),
    perHopMs: Math.round(((q(wall, 0.5) - q(wall1, 0.5)) / (K - 1)) * 10) / 10,
    wftWaitP50Ms: q(wft, 0.5), wftWaitP90Ms: q(wft, 0.9), actWaitP50Ms: q(act, 0.5), actWaitP90Ms: q(act, 0.9),
    wfts: Math.round((wfts / RUNS) * 10) / 10,
  };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const wanted = process.argv.slice(2);
  const variants = wanted.length ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hop-probe-'));
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./probe/workflows'), logger: new DefaultLogger('ERROR') });
  const rows: Row[] = [];
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  for (const v of variants) {
    const r = await probe(v, bundle, tmp);
    rows.push(r);
    console.log(`${r.name.padEnd(22)} wall p50 ${r.wallP50Ms} p90 ${r.wallP90Ms} per-hop ${r.perHopMs} | WFT wait p50 ${r.wftWaitP50Ms} p90 ${r.wftWaitP90Ms} | act wait p50 ${r.actWaitP50Ms} p90 ${r.actWaitP90Ms} | WFTs/run ${r.wfts}`);
  }
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  fs.rmSync(tmp, { recursive: true, force: true });
  const out = path.join(__dirname, 'results', wanted.length ? `hop-probe-${wanted.join('+')}.json` : 'hop-probe.json');
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadAfter, k: K, runs: RUNS, rows }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

void main();
