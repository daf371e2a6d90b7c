/**
 * Every class of bad input through the CLI's `main`, in-process: exit code 2 and exactly one line on
 * stderr naming the flag, file (and line) or variable, nothing on stdout, and no server started
 * (none of these cases may get that far: a Temporal start would take seconds and print a line).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../client/cli';
import { allAgentsFailed } from '../../client/commands/run';
import { LIMITS } from '../../client/options';
import type { RunMasResult } from '../../core/mas';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `main` with stdout/stderr captured and the environment changed for the call only. */
async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Outcome> {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  // Only text is captured: node's test runner reports to its parent through stdout in binary.
  const capture = (sink: string[], original: typeof w1) =>
    ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? (sink.push(c), true) : original(c, ...rest))) as typeof w1;
  process.stdout.write = capture(out, w1);
  process.stderr.write = capture(err, w2);
  const t0 = performance.now();
  try {
    const code = await main(['node', 'agentbalance', ...args]);
    return { code, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - t0 };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

let dir: string;
let state: string;
let closedPort: number;
const f = (name: string) => path.join(dir, name);
const gsm = (i: number) => JSON.stringify({ question: `What is ${i} + 1?`, answer: `${i} plus 1\n#### ${i + 1}` });
const spec = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ agents: [{ id: 'd', role: 'decision', backbone: 'gpt-4o-mini', ...extra }], edges: [], decision: 'd' });

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ab-badinput-'));
  state = path.join(dir, 'state');
  writeFileSync(f('file'), 'a regular file');
  writeFileSync(f('two.jsonl'), `${gsm(1)}\n${gsm(2)}\n`);
  writeFileSync(f('two-bad.jsonl'), `${gsm(1)}\n{nope\n${gsm(2)}\n${JSON.stringify({ question: 'q' })}\n`);
  writeFileSync(f('bad.jsonl'), `${[0, 1, 2, 3, 4].map(gsm).join('\n')}\n{nope\n${JSON.stringify({ question: 'q' })}\n`);
  writeFileSync(f('bigline.jsonl'), `${gsm(0)}\n${JSON.stringify({ question: 'x'.repeat(LIMITS.textBytes + 10), answer: '#### 1' })}\n`);
  mkdirSync(f('mmlu'));
  writeFileSync(f('mmlu/abstract_algebra_test.csv'), `q,a,b,c,d,A\n"${'x'.repeat(LIMITS.textBytes)}",a,b,c,d,B\n`);
  // the datasets root layout: <root>/gsm8k/test.jsonl
  mkdirSync(f('root/gsm8k'), { recursive: true });
  writeFileSync(f('root/gsm8k/test.jsonl'), `${gsm(0)}\nnot json\n`);
  writeFileSync(f('cyclic.json'), JSON.stringify({
    agents: [
      { id: 'a', role: 'solver', backbone: 'gpt-4o-mini' },
      { id: 'b', role: 'solver', backbone: 'gpt-4o-mini' },
      { id: 'd', role: 'decision', backbone: 'gpt-4o-mini' },
    ],
    edges: [['a', 'b'], ['b', 'a'], ['a', 'd']],
    decision: 'd',
  }));
  writeFileSync(f('broken.json'), '{"agents": [');
  writeFileSync(f('wizard.json'), JSON.stringify({ agents: [{ id: 'w', role: 'wizard', backbone: 'gpt-4o-mini' }], decision: 'w' }));
  writeFileSync(f('huge-spec.json'), spec({ systemPrompt: 'x'.repeat(LIMITS.specFileBytes) }));
  writeFileSync(f('big-prompt.json'), spec({ systemPrompt: 'x'.repeat(LIMITS.textBytes + 1) }));
  closedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
});

after(() => rmSync(dir, { recursive: true, force: true }));

type Case = [name: string, args: string[], line: RegExp, env?: Record<string, string>];

const cases = (): Case[] => [
  // usage: one line and a pointer to --help, never the whole help
  ['unknown flag', ['run', '--frob'], /^unknown option '--frob'; see agentbalance run --help$/],
  ['unknown command', ['bogus'], /^unknown command 'bogus'; see agentbalance --help$/],
  ['unknown subcommand flag', ['pool', 'list', '--frob'], /unknown option '--frob'; see agentbalance pool list --help$/],
  ['missing required flag', ['campaign', '--benchmark', 'sample-math'], /^required option '--methods <list>' not specified; see agentbalance campaign --help$/],
  ['missing --benchmark', ['campaign', '--methods', 'chain'], /^required option '--benchmark <id>' not specified/],
  ['missing flag value', ['run', '--query'], /^option '--query <text>' argument missing; see agentbalance run --help$/],
  ['neither query nor benchmark', ['run'], /^give --query TEXT or --benchmark B --index N$/],
  ['benchmark without index', ['run', '--benchmark', 'sample-math'], /^--benchmark needs --index N$/],
  ['empty query', ['run', '--query', '  '], /^--query: must not be empty/],
  // enums: the flag and the allowed values
  ['unknown benchmark', ['run', '--benchmark', 'nope', '--index', '0'], /^--benchmark: unknown value "nope"; allowed: gsm8k, .*sample-math/],
  ['unknown domain', ['run', '--query', 'x', '--domain', 'astrology'], /^--domain: unknown value "astrology"; allowed: math, knowledge, code$/],
  ['unknown campaign benchmark', ['campaign', '--benchmark', 'nope', '--methods', 'chain', '--cost-budgets', '0.001'], /^--benchmark: unknown value "nope"; allowed: /],
  ['unknown select benchmark', ['select', '--benchmark', 'nope'], /^--benchmark: unknown value "nope"; allowed: /],
  ['unknown method', ['campaign', '--benchmark', 'sample-math', '--methods', 'nope', '--cost-budgets', '0.001'], /^--methods: unknown method "nope"; valid methods: /],
  ['re-run of a method the campaign lacks', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001', '--rerun-methods', 'cot-sc'], /^--rerun-methods: cot-sc not among --methods \(chain\)$/],
  ['re-run of an unknown method', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001', '--rerun-methods', 'nope'], /^--rerun-methods: unknown method "nope"; valid methods: /],
  // numbers: decimal and finite only, the flag named
  ['hex index', ['run', '--benchmark', 'sample-math', '--index', '0x1'], /^--index: expected a non-negative decimal integer \(got "0x1"\)$/],
  ['negative index', ['run', '--benchmark', 'sample-math', '--index', '-1'], /^--index: expected a non-negative decimal integer/],
  ['index out of range', ['run', '--benchmark', 'sample-math', '--index', '100000'], /^--index: must be an integer in 0\.\.\d+ for sample-math/],
  ['infinite time factor', ['run', '--query', 'x', '--time-factor', '1e999'], /^--time-factor: the number is not finite \(got "1e999"\)$/],
  ['Infinity', ['run', '--query', 'x', '--max-cost', 'Infinity'], /^--max-cost: expected a decimal number/],
  ['negative budget', ['run', '--query', 'x', '--max-cost', '-1'], /^--max-cost: must be a positive number \(got "-1"\)$/],
  ['not a number', ['run', '--query', 'x', '--max-latency', 'abc'], /^--max-latency: expected a decimal number \(got "abc"\)$/],
  ['rate over 1', ['run', '--query', 'x', '--inject-429', '2'], /^--inject-429: must be a rate between 0 and 1 \(got "2"\)$/],
  ['negative rate', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001', '--inject-5xx', '-0.1'], /^--inject-5xx: must be a rate between 0 and 1/],
  ['bad budget list', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0,-1'], /^--cost-budgets: expected a comma-separated list of positive decimal numbers/],
  ['no budgets', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain'], /^--cost-budgets or --latency-budgets: give at least one budget/],
  ['fractional limit', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001', '--limit', '1.5'], /^--limit: expected a non-negative decimal integer/],
  ['zero concurrency', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001', '--concurrency', '0'], /^--concurrency: must be a positive integer/],
  ['select k', ['select', '--benchmark', 'sample-math', '--k', '0x3'], /^--k: expected a non-negative decimal integer/],
  ['worker concurrency', ['worker', '--concurrency', '1e2'], /^--concurrency: expected a non-negative decimal integer \(got "1e2"\)$/],
  ['server port', ['server', '--port', '99999'], /^--port: expected a port number 1-65535 \(got "99999"\)$/],
  // keys and the gateway (the state folder's key store; no key exists in it)
  ['negative daily limit', ['keys', 'create', '--name', 'x', '--daily-limit', '-1'], /^--daily-limit must be a positive number$/],
  ['fractional rpm', ['keys', 'create', '--name', 'x', '--rpm', '1.5'], /^--rpm must be an integer$/],
  ['revoke an unknown key', ['keys', 'revoke', 'key_000000000000'], /^no key key_000000000000; see `agentbalance keys list`$/],
  ['spend of an unknown key', ['keys', 'spend', 'nope'], /^no key nope; see `agentbalance keys list`$/],
  ['gateway port', ['serve', '--port', '70000'], /^--port must be 0-65535$/],
  // files: the file named, and the line for dataset records
  ['missing spec', ['run', '--spec', f('nope.json'), '--query', 'x'], /^--spec .*nope\.json: cannot read it \(ENOENT\)$/],
  ['spec not JSON', ['run', '--spec', f('broken.json'), '--query', 'x'], /^--spec .*broken\.json: not valid JSON/],
  ['role without a prompt', ['run', '--spec', f('wizard.json'), '--query', 'x'], /^spec: no prompt for role\(s\) "wizard" \(agent "w"\) in the math domain; give the agent a systemPrompt or use one of /],
  ['cyclic spec', ['run', '--spec', f('cyclic.json'), '--query', 'x'], /cycle/i],
  ['oversized spec file', ['run', '--spec', f('huge-spec.json'), '--query', 'x'], /^--spec .*huge-spec\.json: the file is 1\.0 MiB, over the 1\.0 MiB limit$/],
  ['oversized systemPrompt', ['run', '--spec', f('big-prompt.json'), '--query', 'x'], /^--spec .*big-prompt\.json: agents\.d\.systemPrompt is over the 256 KiB limit$/],
  ['oversized query', ['run', '--query', 'x'.repeat(LIMITS.textBytes + 1)], /^--query: is over the 256 KiB limit$/],
  ['missing dataset', ['run', '--benchmark', 'gsm8k', '--data', f('nope'), '--index', '0'], /^gsm8k: .*nope does not exist$/],
  ['bad dataset records', ['run', '--benchmark', 'gsm8k', '--data', f('bad.jsonl'), '--index', '0'], /^gsm8k: 2 bad record\(s\), first .*bad\.jsonl:6: invalid JSON.*; fix them or skip them with --skip-bad-records$/],
  ['oversized dataset line', ['run', '--benchmark', 'gsm8k', '--data', f('bigline.jsonl'), '--index', '0'], /^gsm8k: 1 bad record\(s\), first .*bigline\.jsonl:2: record is \d+ bytes, over the 256 KiB limit/],
  ['oversized CSV row', ['run', '--benchmark', 'mmlu', '--data', f('mmlu'), '--index', '0'], /^mmlu: 1 bad record\(s\), first .*abstract_algebra_test\.csv:2: record is \d+ bytes, over the 256 KiB limit/],
  ['datasets root as --data', ['run', '--benchmark', 'gsm8k', '--data', f('root'), '--index', '0'], /^gsm8k: 1 bad record\(s\), first .*root\/gsm8k\/test\.jsonl:2: invalid JSON/],
  ['campaign on bad records', ['campaign', '--benchmark', 'gsm8k', '--data', f('bad.jsonl'), '--methods', 'chain', '--cost-budgets', '0.001'], /^gsm8k: 2 bad record\(s\), first .*bad\.jsonl:6/],
  // too few records to train the designer
  ['2-record run --benchmark', ['run', '--benchmark', 'gsm8k', '--data', f('two.jsonl'), '--index', '0'], /^run --benchmark: gsm8k: the dataset has 2 usable record\(s\) and none falls in its train split .* give a dataset of 10 or more records, or pass --spec FILE/],
  ['2-record design', ['design', '--benchmark', 'gsm8k', '--data', f('two.jsonl')], /^gsm8k: the dataset has 2 usable record\(s\) and none falls in its train split/],
  ['2-record profile', ['profile', '--benchmark', 'gsm8k', '--data', f('two.jsonl')], /^gsm8k: the dataset has 2 usable record\(s\) and none falls in its profile split/],
  ['2-record agentbalance campaign', ['campaign', '--benchmark', 'gsm8k', '--data', f('two.jsonl'), '--methods', 'agentbalance', '--cost-budgets', '0.001', '--concurrency', '2'], /(--methods: gsm8k: the dataset has 2 usable record\(s\) and none falls in its train split|its test split is empty)/],
  // the environment: the variable named
  ['state folder under a file', ['run', '--query', 'x'], /^AGENTBALANCE_STATE_DIR: cannot use .*file\/state as the state folder: it or a folder above it is a regular file$/, { AGENTBALANCE_STATE_DIR: f('file/state') }],
  ['state folder is a file', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001'], /^AGENTBALANCE_STATE_DIR: cannot use .*file as the state folder/, { AGENTBALANCE_STATE_DIR: f('file') }],
  ['unreachable TEMPORAL_ADDRESS', ['run', '--query', 'x'], /^TEMPORAL_ADDRESS=127\.0\.0\.1:\d+: cannot reach a Temporal server there \(connection refused\); unset it to use the embedded dev server$/, { TEMPORAL_ADDRESS: `127.0.0.1:${closedPort}` }],
  ['malformed TEMPORAL_ADDRESS', ['campaign', '--benchmark', 'sample-math', '--methods', 'chain', '--cost-budgets', '0.001'], /^TEMPORAL_ADDRESS: expected host:port, got "nonsense"$/, { TEMPORAL_ADDRESS: 'nonsense' }],
  ['bad AGENTBALANCE_METRICS_PORT', ['run', '--query', 'x'], /^AGENTBALANCE_METRICS_PORT: expected a port number 0-65535, got "http"$/, { AGENTBALANCE_METRICS_PORT: 'http' }],
  ['bad AGENTBALANCE_DATABASE_URL', ['report', 'c-x'], /^AGENTBALANCE_DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL$/, { AGENTBALANCE_DATABASE_URL: 'mysql://x' }],
  ['unknown campaign', ['report', 'c-does-not-exist'], /^unknown campaign c-does-not-exist$/],
];

test('bad input: exit 2 and one line on stderr naming the flag, file or variable, before any server starts', async (t) => {
  const times: string[] = [];
  for (const [name, args, line, env] of cases()) {
    const r = await cli(args, { AGENTBALANCE_STATE_DIR: state, TEMPORAL_ADDRESS: undefined, ...env });
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(r.code, 2, `${name}: exit ${r.code}; stderr: ${r.stderr}`);
    assert.equal(lines.length, 1, `${name}: expected one stderr line, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^agentbalance: /, name);
    assert.match(lines[0]!.replace(/^agentbalance: /, ''), line, name);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    assert.doesNotMatch(r.stderr, /started the Temporal dev server|\bat .*\.ts:\d+/, name);
    times.push(`${name} ${r.ms.toFixed(0)} ms`);
  }
  // Timings are reported, not asserted (the machine is shared); the first cases pay for module loading.
  t.diagnostic(times.join('; '));
});

test('--skip-bad-records skips and counts bad records (then the run goes on to its next check)', async () => {
  const r = await cli(['run', '--benchmark', 'gsm8k', '--data', f('bad.jsonl'), '--index', '0', '--skip-bad-records', '--spec', f('cyclic.json')], {
    AGENTBALANCE_STATE_DIR: state,
  });
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(r.code, 2, r.stderr);
  assert.match(lines[0]!, /^agentbalance: gsm8k: skipped 2 bad record\(s\) \(--skip-bad-records\); first .*bad\.jsonl:6: invalid JSON/);
  assert.match(lines[1]!, /cycle/i, 'past the dataset, the cyclic spec is what stops the run');
  assert.equal(lines.length, 2);
});

test('campaign --skip-bad-records skips and counts bad records, then the campaign goes on to its next check', async () => {
  const r = await cli(
    ['campaign', '--benchmark', 'gsm8k', '--data', f('two-bad.jsonl'), '--skip-bad-records', '--methods', 'agentbalance', '--cost-budgets', '0.001'],
    { AGENTBALANCE_STATE_DIR: state, TEMPORAL_ADDRESS: undefined },
  );
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(r.code, 2, r.stderr);
  assert.match(lines[0]!, /^agentbalance: skipped 2 bad record\(s\) of gsm8k \(--skip-bad-records\)$/);
  // Past the dataset, its two usable records are too few for the designer's train or test split.
  assert.match(lines[1]!, /(train split|test split is empty)/);
  assert.equal(lines.length, 2);
});

test('--help prints the help on stdout and exits 0', async () => {
  const r = await cli(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--inject-429 <rate>/);
  assert.match(r.stdout, /--skip-bad-records/);
  assert.equal(r.stderr, '');
});

test('a run where every agent failed names the first provider error; one that answered does not', () => {
  const agent = (id: string, status: RunMasResult['agents'][number]['status'], error?: string) => ({
    id, role: 'solver', backbone: 'gpt-4o-mini', status, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyS: 0, startS: 0, finishS: 0, maxTokens: 0, attempts: 4,
    ...(error ? { error } : {}),
  });
  const result = (agents: RunMasResult['agents']): RunMasResult => ({
    answer: '', costUsd: 0, latencyS: 0, deadlineHit: false, budgetExhausted: false, simulated: true, agents, topology: { agents: [], edges: [] },
  });
  assert.equal(
    allAgentsFailed(result([agent('a', 'failed', 'HTTP 503: down\nmore'), agent('d', 'skipped_upstream')])),
    'every agent failed; no answer (1 of 2 failed, first a on gpt-4o-mini: HTTP 503: down)',
  );
  assert.equal(allAgentsFailed(result([agent('a', 'failed', 'x'), agent('d', 'ok')])), undefined);
  assert.equal(allAgentsFailed(result([agent('d', 'skipped_budget')])), undefined, 'a spent budget is not a provider failure');
});
