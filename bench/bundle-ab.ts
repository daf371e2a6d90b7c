/**
 * Two workflow bundles, one server, alternating runs (#17): the one-agent runMas of bench/hops.ts
 * (simulated pool sim-14, time factor 0, client on the workers' connection with eager start)
 * through a worker per bundle, A B A B …, so both see the same load. For changes to what workflow
 * code imports or evaluates, whose effect is a few milliseconds on a shared, noisy machine.
 *
 *   node --import tsx bench/bundle-ab.ts A.js B.js [rounds]
 *
 * Bundles are written by `node --import tsx bench/bundle-ab.ts --write FILE` (this checkout's
 * workflows). Prints p50 / p90 of each and of the ratio B/A per pair, and the load; writes nothing else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-bundles-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createObserveSinks } from '../activities/observe';
import { startOrReuseDevServer } from '../infra/dev-server';
import { freePort } from '../infra/net';
import { mainActivities, workflowBundle } from '../workers/worker';
import { installRuntime } from '../workers/runtime';
import { oneAgentRunInput } from './measure';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--write') {
    fs.writeFileSync(process.argv[3]!, (await workflowBundle()).code);
    fs.rmSync(STATE, { recursive: true, force: true });
    return;
  }
  const files = [process.argv[2]!, process.argv[3]!];
  const rounds = Number(process.argv[4] ?? 40);
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  installRuntime({ logLevel: 'ERROR' });
  const server = await startOrReuseDevServer({ port: await freePort(), log: () => {} });
  const conn = await NativeConnection.connect({ address: server.address });
  const workers = await Promise.all(
    files.map((f, i) =>
      Worker.create({ connection: conn, taskQueue: `ab-${i}`, workflowBundle: { code: fs.readFileSync(f, 'utf8') }, activities: mainActivities(), sinks: createObserveSinks() }),
    ),
  );
  const running = workers.map((w) => w.run());
  const client = new Client({ connection: conn });
  const input = oneAgentRunInput('ab');
  const ms: number[][] = [[], []];
  const ratio: number[] = [];
  for (let r = -5; r < rounds; r++) {
    const pair: number[] = [];
    // Alternate which goes first, so neither always follows the other.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const t0 = performance.now();
      await client.workflow.execute('runMas', { taskQueue: `ab-${i}`, workflowId: `ab-${process.pid}-${r}-${i}`, args: [input], requestEagerStart: true, workflowExecutionTimeout: '1 minute' });
      pair[i] = performance.now() - t0;
    }
    if (r < 0) continue;
    ms[0]!.push(pair[0]!);
    ms[1]!.push(pair[1]!);
    ratio.push(pair[1]! / pair[0]!);
  }
  for (const i of [0, 1]) console.log(`${'AB'[i]} ${files[i]}: p50 ${pct(ms[i]!, 0.5).toFixed(1)} ms, p90 ${pct(ms[i]!, 0.9).toFixed(1)} ms`);
  console.log(`B/A per pair: p50 ${pct(ratio, 0.5).toFixed(2)}, p10 ${pct(ratio, 0.1).toFixed(2)}, p90 ${pct(ratio, 0.9).toFixed(2)} (${rounds} pairs)`);
  console.log(`load before: ${loadBefore}; after: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await conn.close();
  await server.stop();
  fs.rmSync(STATE, { recursive: true, force: true });
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
