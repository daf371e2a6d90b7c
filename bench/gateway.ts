/**
 * Gateway load (`npm run bench`, results in bench/results/gateway.json): 64 concurrent clients send
 * chat completions through `agentbalance serve`'s gateway on the simulated pool (time factor 0), in
 * blocks alternating with 64 concurrent clients that start the same `runMas` directly with the
 * Temporal client. The gateway's overhead is the difference of the two latency distributions
 * measured under the same conditions (same process, same server, interleaved blocks).
 * Checks: every request got exactly one response; every accepted request has exactly one stored
 * request row (settled, with its cost) and one workflow; no workflow id is shared.
 *
 * Env: GATEWAY_BENCH_REQUESTS (default 5000), GATEWAY_BENCH_DIRECT (default 1000), GATEWAY_BENCH_CLIENTS (64).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-bench-gw-'));
process.env.AGENTBALANCE_STATE_DIR = STATE;

import { DEFAULT_WORKER_CONFIG, startWorkers } from '../workers/worker';
import { loadPool } from '../activities/pool-loader';
import { SqliteKeyStore } from '../activities/keys-store';
import { createGateway } from '../client/gateway/server';
import { ModelCatalog } from '../client/gateway/models';
import { ChatRequestSchema } from '../client/gateway/schemas';
import { MAIN_TASK_QUEUE } from '../core/queues';
import { startTestTemporal } from '../test/support/temporal';

const REQUESTS = Number(process.env.GATEWAY_BENCH_REQUESTS ?? 5000);
const DIRECT = Number(process.env.GATEWAY_BENCH_DIRECT ?? 1000);
const CLIENTS = Number(process.env.GATEWAY_BENCH_CLIENTS ?? 64);
const BLOCKS = 4;
const MODEL = 'gpt-4o-mini';

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const ms = (x: number) => Math.round(x * 100) / 100;
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').trim();

/** Runs `n` jobs with `concurrency` workers pulling from a shared counter. */
async function pool(n: number, concurrency: number, job: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await job(next++);
    }),
  );
  return (performance.now() - t0) / 1000;
}

interface Answer {
  status: number;
  workflowId?: string;
  requestId?: string;
}

function post(agent: http.Agent, url: URL, secret: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: '/v1/chat/completions', method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return resolve({ status: res.statusCode ?? 0 });
          const j = JSON.parse(text) as { agentbalance: { workflow_id: string; request_id: string } };
          resolve({ status: 200, workflowId: j.agentbalance.workflow_id, requestId: j.agentbalance.request_id });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const env = await startTestTemporal();
  const workers = await startWorkers({ ...DEFAULT_WORKER_CONFIG, providers: ['simulated'], address: '', namespace: 'default' }, env.nativeConnection);
  const keys = new SqliteKeyStore(path.join(STATE, 'gateway.sqlite'));
  const { key, secret } = await keys.createKey('bench', { defaultMaxCostUsd: 0.01 });
  const catalog = new ModelCatalog(loadPool('sim-14'));
  const gateway = createGateway({ client: env.client, keys, catalog, timeFactor: 0 });
  const url = new URL(await gateway.listen(0, '127.0.0.1'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

  const bodyOf = (i: number) => JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: `Question ${i}: what is ${i} + ${i}?` }] });
  // The direct path starts exactly what the gateway would start for the same request.
  const directInput = async (i: number) => {
    const req = ChatRequestSchema.parse(JSON.parse(bodyOf(i)));
    return catalog.buildInput(catalog.resolve(MODEL)!, req, req.messages[0]!.content as string, { maxCostUsd: 0.01 }, { timeFactor: 0, rate429: 0, rate5xx: 0, seed: '0' });
  };

  const gw: number[] = [];
  const direct: number[] = [];
  const answers: Answer[] = [];
  const failures: string[] = [];
  let gwSeconds = 0;
  let directSeconds = 0;
  let sent = 0;

  // Warm-up (workflow bundle, connections, SQLite pages): not measured.
  await pool(2 * CLIENTS, CLIENTS, async (i) => {
    await post(agent, url, secret, bodyOf(-1 - i));
  });
  const warmRows = (await keys.requests(key.id)).length;

  for (let b = 0; b < BLOCKS; b++) {
    const nd = Math.round(DIRECT / BLOCKS);
    directSeconds += await pool(nd, CLIENTS, async (i) => {
      const input = await directInput(100_000 + b * nd + i);
      const t0 = performance.now();
      try {
        await env.client.workflow.execute('runMas', { taskQueue: MAIN_TASK_QUEUE, workflowId: `bench-direct-${b}-${i}-${Date.now()}`, args: [input] });
        direct.push(performance.now() - t0);
      } catch (e) {
        failures.push(`direct: ${(e as Error).message}`);
      }
    });
    const ng = b === BLOCKS - 1 ? REQUESTS - sent : Math.round(REQUESTS / BLOCKS);
    gwSeconds += await pool(ng, CLIENTS, async () => {
      const i = sent++;
      const t0 = performance.now();
      try {
        const a = await post(agent, url, secret, bodyOf(i));
        gw.push(performance.now() - t0);
        answers.push(a);
      } catch (e) {
        failures.push(`gateway: ${(e as Error).message}`);
      }
    });
    process.stderr.write(`block ${b + 1}/${BLOCKS}: ${answers.length} gateway answers, ${direct.length} direct runs; load ${loadavg()}\n`);
  }

  // Exactly-once checks.
  const accepted = answers.filter((a) => a.status === 200);
  const rows = (await keys.requests(key.id)).slice(warmRows);
  const rowIds = new Set(rows.map((r) => r.requestId));
  const wfIds = new Set(accepted.map((a) => a.workflowId));
  let temporalCount: number | null = null;
  try {
    temporalCount = (await env.client.workflow.count(`WorkflowType = 'runMas' AND WorkflowId STARTS_WITH 'gw-'`)).count - warmRows;
  } catch {
    temporalCount = null;
  }
  const checks = {
    requestsSent: REQUESTS,
    responses: answers.length,
    transportFailures: failures.length,
    statuses: Object.fromEntries([...new Set(answers.map((a) => a.status))].map((s) => [s, answers.filter((a) => a.status === s).length])),
    accepted: accepted.length,
    storedRequestRows: rows.length,
    storedRowsSettled: rows.filter((r) => r.status === 'settled').length,
    everyAcceptedHasItsRow: accepted.every((a) => rowIds.has(a.requestId!)),
    distinctWorkflowIds: wfIds.size,
    temporalRunMasWorkflows: temporalCount,
  };
  const ok =
    checks.responses === REQUESTS &&
    checks.transportFailures === 0 &&
    checks.storedRequestRows === checks.accepted &&
    checks.storedRowsSettled === checks.accepted &&
    checks.everyAcceptedHasItsRow &&
    checks.distinctWorkflowIds === checks.accepted &&
    (temporalCount === null || temporalCount === checks.accepted);

  const result = {
    what: 'OpenAI-compatible gateway under load: simulated pool sim-14 (time factor 0), one-call model gpt-4o-mini, SQLite keys store, dev server + worker + gateway + load clients in one process',
    simulated: true,
    clients: CLIENTS,
    machine: { cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadavg(), note: 'shared 2-core machine with other engineers running tests: absolute figures are noisy; compare gateway vs direct within this run' },
    gateway: { requests: gw.length, seconds: ms(gwSeconds), requestsPerS: ms(gw.length / gwSeconds), p50Ms: ms(quantile(gw, 0.5)), p99Ms: ms(quantile(gw, 0.99)) },
    direct: { runs: direct.length, seconds: ms(directSeconds), runsPerS: ms(direct.length / directSeconds), p50Ms: ms(quantile(direct, 0.5)), p99Ms: ms(quantile(direct, 0.99)) },
    overhead: { p50Ms: ms(quantile(gw, 0.5) - quantile(direct, 0.5)), p99Ms: ms(quantile(gw, 0.99) - quantile(direct, 0.99)) },
    checks,
    ok,
    failures: failures.slice(0, 5),
    at: new Date().toISOString(),
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'gateway.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));

  agent.destroy();
  await gateway.close({ timeoutMs: 10_000 });
  await workers.shutdown();
  await env.teardown();
  await keys.close();
  fs.rmSync(STATE, { recursive: true, force: true });
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
