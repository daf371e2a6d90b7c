/**
 * The grading activity: sync graders for numeric, MATH and multiple-choice answers; sandboxed
 * execution of the benchmark's tests for code answers.
 */
import { extractCode, gradeSync } from '../../core/graders';
import type { Task } from '../../core/task';
import { runCodeTests, type CodeExecOptions } from './code-exec';

export interface GradeResult {
  correct: boolean;
  /** What the grader read from the answer (number, letter, LaTeX answer, or the code that ran). */
  extracted: string | null;
  /** Why it failed, for code answers: the status and the end of stderr. */
  detail?: string;
}

/** Longest extracted code echoed back: results travel in workflow history, keep them small. */
const MAX_EXTRACTED_CODE = 4000;

export async function gradeAnswer(task: Task, text: string, options?: CodeExecOptions): Promise<GradeResult> {
  const sync = gradeSync(task, text);
  if (sync) return sync;
  const key = task.answer;
  if (key.kind !== 'code') throw new Error(`no grader for answer kind ${key.kind}`);
  const code = extractCode(text);
  const extracted = code.length > MAX_EXTRACTED_CODE ? `${code.slice(0, MAX_EXTRACTED_CODE)}\n# …truncated` : code;
  if (code.trim() === '') return { correct: false, extracted: null, detail: 'no code in the answer' };
  const res = await runCodeTests(key, code, options);
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

/** The grading activity of runMas (a regular activity for code, a local one for text answers). */
export function createGradingActivities() {
  return { gradeAnswer };
}

export { runCodeTests, runPythonSandboxed, sandboxInfo } from './code-exec';
export type { CodeExecOptions } from './code-exec';
