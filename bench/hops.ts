/**
 * Orchestration overhead per agent hop (#17), against the physical limit: the same DAGs run through
 * the programmatic `runMas` (a workflow on the product's dev server and worker) and through a direct
 * in-process execution of the same DAG with the same activity code (callAgent, gradeAnswer) and no
 * Temporal. Chains (each agent waits for the previous one) and fan-ins (all parallel, then the
 * decision agent) of 1, 2, 4 and 8 agents.
 *  - time factor 0, simulated pool sim-14: wall-time difference per run, the one-agent run, and the
 *    per-hop overhead: (overhead of a depth-d run − median overhead of the one-agent run) / (d − 1);
 *  - time factor 1, scripted agents of 1–3 s: the orchestration share of the critical path.
 * Runs are paired (same DAG and seed, the order alternates) so machine load hits both sides alike.
 * Results: bench/results/hops.json, with /proc/loadavg before and after (the machine is shared).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-hops-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { makeCallAgent, type CallAgentInput, type CallAgentResult } from '../activities/call-agent';
import { gradeAnswer } from '../activities/grading';
import { getProvider } from '../activities/providers';
import { runMas } from '../client/api';
import { validateSpec } from '../core/dag';
import { RunMasInputSchema, type MasSpec, type RunMasInput } from '../core/mas';
import { BUILTIN_POOLS } from '../core/pool-file';
import type { Backbone } from '../core/pool';
import { buildAgentPrompt, type PeerMessage } from '../core/prompt';
import { rolePrompts, rolesFor, DECISION_ROLE_ID } from '../core/roles';
import { getBuiltinSample } from '../core/benchmarks/builtin';
import { DEV_SERVER_DYNAMIC_CONFIG, startOrReuseDevServer } from '../infra/dev-server';
import { DEFAULT_WORKER_CONFIG, startWorkers } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import { isScripted, ScriptedProvider, scriptedBackbone } from '../test/support/scripted-provider';
import { freePort } from '../infra/net';

const SIZES = [1, 2, 4, 8];
const RUNS = Number(process.env.HOPS_RUNS ?? 30);
const REAL_RUNS = Number(process.env.HOPS_REAL_RUNS ?? 2);
const MAX_TOKENS = 256;

type Shape = 'chain' | 'fan-in';

function q(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
}
const stats = (xs: number[]) => ({ n: xs.length, p50: q(xs, 0.5), p99: q(xs, 0.99), max: q(xs, 1) });

/** A chain or fan-in of k agents; the last one decides. Depth: agents on the critical path. */
function dag(shape: Shape, k: number, workerBackbone: (i: number) => string, decisionBackbone: string): { spec: MasSpec; depth: number } {
  const roles = rolesFor('math').filter((r) => r.id !== DECISION_ROLE_ID);
  const workers = Array.from({ length: k - 1 }, (_, i) => ({ id: `w${i + 1}`, role: roles[i % roles.length]!.id, backbone: workerBackbone(i), maxTokens: MAX_TOKENS }));
  const decision = { id: 'decision', role: DECISION_ROLE_ID, backbone: decisionBackbone, maxTokens: MAX_TOKENS };
  const ids = [...workers.map((w) => w.id), 'decision'];
  const edges: [string, string][] =
    shape === 'chain' ? ids.slice(1).map((id, i) => [ids[i]!, id]) : workers.map((w) => [w.id, 'decision']);
  return { spec: { agents: [...workers, decision], edges, decision: 'decision' }, depth: shape === 'chain' ? k : Math.min(k, 2) };
}

/** The same DAG without Temporal: each agent starts when its predecessors are done, as in runMas. */
async function direct(rawInput: RunMasInput, callAgent: ReturnType<typeof makeCallAgent>): Promise<void> {
  const input = RunMasInputSchema.parse(rawInput); // as the workflow does
  const { spec } = input;
  const backbones = new Map(input.backbones.map((b) => [b.id, b]));
  const index = validateSpec(spec, new Set(backbones.keys()));
  const texts = new Map<string, PeerMessage>();
  const running = new Map<string, Promise<void>>();
  for (const id of index.order) {
    const a = spec.agents.find((x) => x.id === id)!;
    const preds = index.preds.get(id)!;
    running.set(
      id,
      Promise.all(preds.map((p) => running.get(p)!)).then(async () => {
        const peers = preds.map((p) => texts.get(p)!);
        const prompt = buildAgentPrompt(input.rolePrompts[a.role]!, input.query, peers);
        const call: CallAgentInput = {
          agentId: a.id,
          role: a.role,
          backbone: backbones.get(a.backbone)!,
          system: prompt.system,
          messages: prompt.messages,
          wantedMaxTokens: a.maxTokens ?? MAX_TOKENS,
          temperature: 0.7,
          simulation: {
            ...(input.task ? { task: input.task } : {}),
            seed: `${input.simulation?.seed ?? '0'}/${a.id}/1`,
            peerTexts: peers.map((p) => p.text),
            timeFactor: input.simulation?.timeFactor ?? 0,
            rate429: 0,
            rate5xx: 0,
          },
        };
        const res = await new MockActivityEnvironment().run<[CallAgentInput], CallAgentResult, typeof callAgent>(callAgent, call);
        texts.set(id, { agentId: id, role: a.role, text: res.status === 'ok' ? res.text : '' });
      }),
    );
  }
  await Promise.all(running.values());
  if (input.task) await new MockActivityEnvironment().run(gradeAnswer, input.task, texts.get(spec.decision)!.text);
}

async function main(): Promise<void> {
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  installRuntime({ logLevel: 'ERROR' });
  const server = await startOrReuseDevServer({ port: await freePort(), log: () => {} });
  const scripted = new ScriptedProvider();
  const callAgent = makeCallAgent((b) => (isScripted(b) ? scripted : getProvider(b.provider)));
  const conn = await NativeConnection.connect({ address: server.address });
  const workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: server.address, namespace: 'default' }, conn, { callAgent });
  // As the CLI does (#17): a client on the in-process worker's NativeConnection, with eager workflow
  // start. For comparison: a client on a connection of its own (a separate process's client).
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const eagerClient = new Client({ connection: conn });
  const pool = BUILTIN_POOLS['sim-14']!;
  const tasks = getBuiltinSample('sample-math');
  let seq = 0;

  const paired = async (input: RunMasInput, flip: boolean, eagerStart = true): Promise<{ temporalMs: number; directMs: number }> => {
    const timeIt = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const viaTemporal = () => timeIt(() => runMas(eagerStart ? eagerClient : client, input, { workflowId: `hops-${process.pid}-${seq++}`, eagerStart }));
    const viaDirect = () => timeIt(() => direct(input, callAgent));
    if (flip) {
      const directMs = await viaDirect();
      return { directMs, temporalMs: await viaTemporal() };
    }
    const temporalMs = await viaTemporal();
    return { temporalMs, directMs: await viaDirect() };
  };

  // Time factor 0, simulated pool.
  const byId = (id: string): Backbone => pool.backbones.find((b) => b.id === id)!;
  type Row = { label: string; shape: Shape; k: number; depth: number; eager: boolean; spec: MasSpec; temporalMs: number[]; directMs: number[]; overheadMs: number[]; perHopMs: number[] };
  const row = (shape: Shape, k: number, eager = true): Row => {
    const { spec, depth } = dag(shape, k, (i) => (i % 2 ? 'llama-3.1-8b' : 'gpt-4.1-nano'), 'gpt-4o-mini');
    return { label: `${shape} ${k}${eager ? '' : ' (own connection, no eager start)'}`, shape, k, depth, eager, spec, temporalMs: [], directMs: [], overheadMs: [], perHopMs: [] };
  };
  // chain 1 first (each round's baseline); fan-in 1 is the same DAG. Plus the one-agent run from a
  // client on a connection of its own (no eager start).
  const rows: Row[] = [...SIZES.map((k) => row('chain', k)), ...SIZES.filter((k) => k > 1).map((k) => row('fan-in', k)), row('chain', 1, false)];
  const inputFor = (r: Row, i: number): RunMasInput => {
    const task = tasks[Math.abs(i) % tasks.length]!;
    return {
      query: task.question,
      task,
      spec: r.spec,
      budgets: {},
      backbones: [...new Set(r.spec.agents.map((a) => a.backbone))].map(byId),
      rolePrompts: rolePrompts('math'),
      simulation: { timeFactor: 0, rate429: 0, rate5xx: 0, seed: `hops-${i}` },
    };
  };
  // Warm-up (JIT, caches), then rounds of every shape once, so load changes hit all shapes alike.
  for (let i = 1; i <= 3; i++) for (const r of rows) await paired(inputFor(r, -i), false, r.eager);
  for (let i = 0; i < RUNS; i++) {
    for (const r of rows) {
      const x = await paired(inputFor(r, i), i % 2 === 0, r.eager);
      r.temporalMs.push(x.temporalMs);
      r.directMs.push(x.directMs);
      r.overheadMs.push(x.temporalMs - x.directMs);
    }
    // Per hop: a run's overhead minus the same round's one-agent overhead, per extra agent (for a
    // chain, per extra hop on the critical path; a fan-in's parallel agents share one CPU).
    const base = rows[0]!.overheadMs[i]!;
    for (const r of rows) if (r.k > 1) r.perHopMs.push((r.overheadMs[i]! - base) / (r.k - 1));
  }
  for (const r of rows) {
    console.log(`tf0 ${r.label}: runMas p50 ${q(r.temporalMs, 0.5).toFixed(1)} ms, direct p50 ${q(r.directMs, 0.5).toFixed(1)} ms, overhead p50 ${q(r.overheadMs, 0.5).toFixed(1)} p99 ${q(r.overheadMs, 0.99).toFixed(1)} ms`);
  }
  const perHop = (shape: Shape) => rows.filter((r) => r.shape === shape).flatMap((r) => r.perHopMs);

  // Time factor 1, scripted agents of 1-3 s (regular activities: real waiting).
  const lat = (i: number) => 1 + (i % 3);
  const realBackbones = [1, 2, 3].map((s) => scriptedBackbone(`lat${s}`, `lat=${s};answer=Answer: 42`));
  const real: { shape: Shape; k: number; depth: number; criticalPathS: number; runs: { temporalMs: number; directMs: number; overheadMs: number; sharePct: number }[] }[] = [];
  for (const shape of ['chain', 'fan-in'] as Shape[]) {
    for (const k of SIZES) {
      if (shape === 'fan-in' && k === 1) continue;
      const { spec, depth } = dag(shape, k, (i) => `lat${lat(i)}`, 'lat1');
      const input: RunMasInput = {
        query: 'What is 6 * 7?',
        spec,
        budgets: {},
        backbones: realBackbones,
        rolePrompts: rolePrompts('math'),
        simulation: { timeFactor: 1, rate429: 0, rate5xx: 0, seed: 'hops-real' },
      };
      const critical = shape === 'chain' ? Array.from({ length: k - 1 }, (_, i) => lat(i)).reduce((s, x) => s + x, 0) + 1 : Math.max(0, ...Array.from({ length: k - 1 }, (_, i) => lat(i))) + 1;
      const row = { shape, k, depth, criticalPathS: critical, runs: [] as (typeof real)[number]['runs'] };
      for (let i = 0; i < REAL_RUNS; i++) {
        const r = await paired(input, i % 2 === 1);
        row.runs.push({ ...r, overheadMs: r.temporalMs - r.directMs, sharePct: (100 * (r.temporalMs - r.directMs)) / r.temporalMs });
      }
      real.push(row);
      console.log(`tf1 ${shape} ${k}: critical path ${critical} s, orchestration share ${row.runs.map((r) => r.sharePct.toFixed(2)).join(', ')} %`);
    }
  }
  const realPerHop = real.flatMap((s) => s.runs.map((r) => r.overheadMs / s.depth));

  await workers.shutdown();
  // Both connections, or the process never exits: the Temporal runtime (and its ref'd log
  // forwarding) stays up while a NativeConnection is open, and startWorkers leaves a connection
  // it was given to its owner (#17).
  await client.connection.close();
  await conn.close();
  await server.stop();
  const loadAfter = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  const round = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadAfter, note: 'shared machine; other engineers ran tests meanwhile' },
    devServerDynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
    timeFactor0: {
      what: 'simulated pool sim-14, time factor 0 (calls are local activities); client on the worker\'s connection with eager start, as the CLI; ms of wall time; overhead = runMas − direct, paired per run; per hop = (overhead − the same round\'s one-agent overhead) / (agents − 1)',
      runs: RUNS,
      oneAgentRunMs: stats(rows[0]!.temporalMs),
      oneAgentRunOwnConnectionMs: stats(rows.find((r) => !r.eager)!.temporalMs),
      oneAgentOverheadMs: stats(rows[0]!.overheadMs),
      perHopOverheadMs: { chains: stats(perHop('chain')), fanIns: stats(perHop('fan-in')) },
      shapes: rows.map((r) => ({ shape: r.label, agents: r.k, depth: r.depth, runMasMs: stats(r.temporalMs), directMs: stats(r.directMs), overheadMs: stats(r.overheadMs) })),
    },
    timeFactor1: {
      what: 'scripted agents of 1-3 s, real waiting (regular activities on the provider queue); share = (runMas − direct) / runMas',
      perHopOverheadMs: stats(realPerHop),
      maxSharePct: Math.round(Math.max(...real.flatMap((s) => s.runs.map((r) => r.sharePct))) * 100) / 100,
      shapes: real.map((s) => ({ shape: s.shape, agents: s.k, depth: s.depth, criticalPathS: s.criticalPathS, runMasMs: round(s.runs.map((r) => r.temporalMs)), directMs: round(s.runs.map((r) => r.directMs)), sharePct: s.runs.map((r) => Math.round(r.sharePct * 100) / 100) })),
    },
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'hops.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify({ oneAgent: result.timeFactor0.oneAgentRunMs, oneAgentOwnConnection: result.timeFactor0.oneAgentRunOwnConnectionMs, perHop: result.timeFactor0.perHopOverheadMs, realPerHop: result.timeFactor1.perHopOverheadMs, maxSharePct: result.timeFactor1.maxSharePct, load: [loadBefore, loadAfter] }));
  fs.rmSync(STATE, { recursive: true, force: true });
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
