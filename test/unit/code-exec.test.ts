import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadBenchmark } from '../../activities/datasets';
import { createGradingActivities, gradeAnswer, runCodeTests, runPythonSandboxed, sandboxInfo } from '../../activities/grading';
import { getBuiltinSample } from '../../core/benchmarks/builtin';
import type { Task } from '../../core/task';

const DATASETS = path.resolve(__dirname, '../../../shared/datasets');

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** Processes (live or zombie) owned by `uid`. */
function processesOf(uid: number): number {
  let n = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}`).uid === uid) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

describe('sandboxed code execution', () => {
  it('reports how it is contained', async () => {
    const info = await sandboxInfo();
    assert.match(info.pythonVersion, /^3\./);
    console.log(`# sandbox: ${JSON.stringify(info)}`);
  });

  it('every HumanEval canonical solution passes and a broken variant fails', { skip: existsSync(DATASETS) ? false : `no datasets at ${DATASETS}` }, async () => {
    const { tasks } = await loadBenchmark('humaneval', path.join(DATASETS, 'humaneval'));
    const t0 = Date.now();
    const results = await pool(tasks, 4, async (t) => {
      if (t.answer.kind !== 'code' || !t.answer.canonical) throw new Error(`${t.id} has no canonical solution`);
      const good = await runCodeTests(t.answer, t.answer.canonical);
      // broken: the prompt's function with a body that returns None
      const bad = await runCodeTests(t.answer, '    return None\n');
      return { id: t.id, good, bad };
    });
    const failedGood = results.filter((r) => !r.good.passed).map((r) => `${r.id}: ${r.good.status} ${r.good.stderrTail.slice(-200)}`);
    const passedBad = results.filter((r) => r.bad.passed).map((r) => r.id);
    assert.deepEqual(failedGood, []);
    assert.deepEqual(passedBad, []);
    console.log(`# humaneval: ${results.length} canonical + ${results.length} broken runs in ${Date.now() - t0} ms`);
  });

  it('built-in code samples: canonical passes, through gradeAnswer with a fenced answer', async () => {
    for (const t of getBuiltinSample('sample-code')) {
      assert.ok(t.answer.kind === 'code');
      if (t.answer.kind !== 'code') continue;
      const g = await gradeAnswer(t, `Here is my solution:\n\`\`\`python\n${t.answer.canonical}\n\`\`\`\n`);
      assert.equal(g.correct, true, `${t.id}: ${g.detail}`);
      const wrong = await gradeAnswer(t, `\`\`\`python\ndef ${t.answer.entryPoint}(*a, **k):\n    return 0\n\`\`\``);
      assert.equal(wrong.correct, false, t.id);
      assert.ok(wrong.detail && wrong.detail.length > 0);
    }
  });

  it('an infinite loop times out without blocking the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const t0 = Date.now();
    const r = await runPythonSandboxed('while True:\n    pass\n', { timeoutMs: 1500 });
    clearInterval(timer);
    const elapsed = Date.now() - t0;
    assert.equal(r.status, 'timeout');
    assert.equal(r.passed, false);
    assert.ok(elapsed >= 1400 && elapsed < 5000, `elapsed ${elapsed} ms`);
    assert.ok(ticks >= 40, `only ${ticks} interval ticks in ${elapsed} ms: the event loop was blocked`);
  });

  it('contains a fork bomb', async () => {
    const t0 = Date.now();
    const r = await runPythonSandboxed('import os\nprint(os.getuid(), flush=True)\nwhile True:\n    os.fork()\n', { timeoutMs: 5000 });
    assert.equal(r.passed, false);
    assert.ok(Date.now() - t0 < 10_000);
    const info = await sandboxInfo();
    const uid = Number(r.stdoutTail.trim().split('\n')[0]);
    if (info.perRunUid) {
      // every process of the run is gone (killed with its pid namespace / process group)
      let left = processesOf(uid);
      for (let i = 0; i < 20 && left > 0; i++) {
        await new Promise((res) => setTimeout(res, 100));
        left = processesOf(uid);
      }
      assert.equal(left, 0, `processes of sandbox uid ${uid} still running`);
    }
    // and the machine still runs python normally
    const ok = await runPythonSandboxed('assert sum(range(10)) == 45\n');
    assert.equal(ok.status, 'passed');
  });

  it('stops a run that floods its output', async () => {
    const t0 = Date.now();
    const r = await runPythonSandboxed('while True:\n    print("x" * 10000)\n', { timeoutMs: 8000 });
    assert.equal(r.status, 'output_limit');
    assert.ok(r.stdoutTail.length <= 4096);
    assert.ok(Date.now() - t0 < 5000);
  });

  it('blocks the network, loopback included', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    const prog = [
      'import socket, _socket',
      'for host in ["127.0.0.1", "1.1.1.1", "example.com"]:',
      '    try:',
      `        socket.create_connection((host, ${port} if host == "127.0.0.1" else 80), timeout=2)`,
      '        print("CONNECTED", host)',
      '    except Exception as e:',
      '        print("BLOCKED", host, type(e).__name__)',
      'try:',
      '    s = _socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", ' + String(port) + ')); print("CONNECTED raw")',
      'except Exception as e:',
      '    print("BLOCKED raw", type(e).__name__)',
    ].join('\n');
    const r = await runPythonSandboxed(prog, { timeoutMs: 8000 });
    server.close();
    assert.equal(r.status, 'passed', r.stderrTail);
    assert.doesNotMatch(r.stdoutTail, /CONNECTED/);
    assert.equal((r.stdoutTail.match(/BLOCKED/g) ?? []).length, 4);
    assert.equal(connections, 0);
  });

  it('does not count an early exit as a pass, limits memory, hides env secrets, removes its folder', async () => {
    assert.equal((await runPythonSandboxed('import os\nos._exit(0)\nassert False\n')).status, 'failed');
    assert.equal((await runPythonSandboxed('import sys\nsys.exit(0)\nassert False\n')).status, 'failed');
    const mem = await runPythonSandboxed('x = bytearray(3 * 1024 ** 3)\n');
    assert.equal(mem.status, 'failed');
    assert.match(mem.stderrTail, /MemoryError/);

    process.env.AGENTBALANCE_TEST_SECRET = 'sk-should-not-leak';
    const env = await runPythonSandboxed('import os, sys\nprint(os.getcwd())\nassert "AGENTBALANCE_TEST_SECRET" not in os.environ\nassert sys.flags.isolated == 1\n');
    delete process.env.AGENTBALANCE_TEST_SECRET;
    assert.equal(env.status, 'passed', env.stderrTail);
    const cwd = env.stdoutTail.trim();
    assert.match(cwd, /agentbalance-exec-/);
    assert.equal(existsSync(cwd), false, 'temp folder removed');
  });

  it('gradeAnswer: sync kinds need no subprocess; code without code is a clear failure', async () => {
    const t: Task = { id: 'x/1', benchmark: 'gsm8k', domain: 'math', question: 'q', answer: { kind: 'numeric', value: '7' } };
    assert.deepEqual(await gradeAnswer(t, 'Answer: 7'), { correct: true, extracted: '7' });
    const code = getBuiltinSample('sample-code')[0] as Task;
    const g = await gradeAnswer(code, '   ');
    assert.deepEqual(g, { correct: false, extracted: null, detail: 'no code in the answer' });
  });

  it('the grading activity runs each distinct program once, and never keeps a timeout', async () => {
    const task = getBuiltinSample('sample-code')[0] as Task;
    if (task.answer.kind !== 'code') throw new Error('sample-code holds code tasks');
    const ran: string[] = [];
    let timeoutNext = false;
    const { gradeAnswer: grade } = createGradingActivities({
      runTests: async (key, code, options) => {
        ran.push(code);
        if (timeoutNext) {
          timeoutNext = false;
          return { status: 'timeout', passed: false, exitCode: null, signal: 'SIGKILL', durationMs: 10, stdoutTail: '', stderrTail: '', outputBytes: 0 };
        }
        return runCodeTests(key, code, options);
      },
    });
    const right = `\`\`\`python\n${task.answer.canonical}\n\`\`\``;
    const wrong = `\`\`\`python\ndef ${task.answer.entryPoint}(*a, **k):\n    return 0\n\`\`\``;
    const first = await Promise.all([grade(task, right), grade(task, right)]);
    assert.deepEqual(first.map((g) => g.correct), [true, true]);
    assert.equal((await grade(task, right)).correct, true);
    assert.equal(ran.length, 1, 'one Python run for three gradings of one program');
    assert.equal((await grade(task, wrong)).correct, false);
    assert.equal((await grade(task, wrong)).correct, false);
    assert.equal(ran.length, 2, 'a failing program is kept too');
    timeoutNext = true;
    const other = `\`\`\`python\n${task.answer.canonical}\n# another program\n\`\`\``;
    assert.match((await grade(task, other)).detail ?? '', /timed out/);
    assert.equal((await grade(task, other)).correct, true, 'a timeout is graded again, not remembered');
    assert.equal(ran.length, 4);
  });
});
