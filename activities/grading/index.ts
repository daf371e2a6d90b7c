/**
 * The grading activity: sync graders for numeric, MATH and multiple-choice answers; sandboxed
 * execution of the benchmark's tests for code answers.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { extractCode, gradeSync } from '../../core/graders';
import type { Task } from '../../core/task';
import { runCodeTests, type CodeExecOptions, type CodeExecResult } from './code-exec';

export interface GradeResult {
  correct: boolean;
  /** What the grader read from the answer (number, letter, LaTeX answer, or the code that ran). */
  extracted: string | null;
  /** Why it failed, for code answers: the status and the end of stderr. */
  detail?: string;
}

/** Longest extracted code echoed back: results travel in workflow history, keep them small. */
const MAX_EXTRACTED_CODE = 4000;

type RunTests = (key: Extract<Task['answer'], { kind: 'code' }>, code: string, options?: CodeExecOptions) => Promise<CodeExecResult>;

export function gradeAnswer(task: Task, text: string, options?: CodeExecOptions): Promise<GradeResult> {
  return gradeWith(runCodeTests, task, text, options);
}

async function gradeWith(run: RunTests, task: Task, text: string, options?: CodeExecOptions): Promise<GradeResult> {
  const sync = gradeSync(task, text);
  if (sync) return sync;
  const key = task.answer;
  if (key.kind !== 'code') throw new Error(`no grader for answer kind ${key.kind}`);
  const code = extractCode(text);
  const extracted = code.length > MAX_EXTRACTED_CODE ? `${code.slice(0, MAX_EXTRACTED_CODE)}\n# …truncated` : code;
  if (code.trim() === '') return { correct: false, extracted: null, detail: 'no code in the answer' };
  const res = await run(key, code, options);
  if (res.passed) return { correct: true, extracted };
  const lastLines = res.stderrTail.trim().split('\n').slice(-3).join('\n');
  const why =
    res.status === 'timeout'
      ? `timed out after ${res.durationMs} ms`
      : res.status === 'output_limit'
        ? `stopped: more than the allowed output (${res.outputBytes} bytes)`
        : `${res.status}${res.exitCode !== null ? ` (exit ${res.exitCode})` : ''}`;
  return { correct: false, extracted, detail: lastLines ? `${why}: ${lastLines}` : why };
}

/** Code-test results kept per worker (a result is a few KiB of output tails at most). */
const CODE_RESULT_CACHE_ENTRIES = 20_000;

/**
 * Runs a program's tests once per distinct program: a campaign grades the same answer many times
 * (with common random numbers, every method and budget that makes the same call gets the same
 * text), and each grading is a Python process. Results whose outcome depends on the machine's
 * load or on chance (timeouts, output limits, sandbox errors) are not kept. Concurrent requests
 * for one program share its run.
 */
function cachedRunCodeTests(entries: number, runTests: RunTests): RunTests {
  const results = new LRUCache<string, Promise<CodeExecResult>>({ max: entries });
  return (key, code, options) => {
    const id = createHash('sha256')
      .update(JSON.stringify([key.prelude, key.tests, code, options ?? null]))
      .digest('hex');
    const known = results.get(id);
    if (known) return known;
    const running = runTests(key, code, options);
    results.set(id, running);
    running.then(
      (r) => {
        if (r.status !== 'passed' && r.status !== 'failed') results.delete(id);
      },
      () => results.delete(id),
    );
    return running;
  };
}

/** The grading activity of runMas (a regular activity for code, a local one for text answers). */
export function createGradingActivities(options: { codeResultCacheEntries?: number; runTests?: RunTests } = {}) {
  const run = cachedRunCodeTests(options.codeResultCacheEntries ?? CODE_RESULT_CACHE_ENTRIES, options.runTests ?? runCodeTests);
  return {
    gradeAnswer: (task: Task, text: string, execOptions?: CodeExecOptions): Promise<GradeResult> =>
      gradeWith(run, task, text, execOptions),
  };
}

export { runCodeTests, runPythonSandboxed, sandboxInfo } from './code-exec';
export type { CodeExecOptions } from './code-exec';
