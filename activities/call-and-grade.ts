/**
 * runMas's decision call on the local-calls path (simulated pool, time factor 0; #17): the model
 * call and the grading of its answer in one local activity, built from the worker's own
 * `callAgent` and `gradeAnswer` (tests' replacements included). A separate grading local activity
 * cost the one-agent run a dispatch and a workflow activation of its own (about a fifth of it).
 *
 * Grading is best effort here: if it throws, the call's result comes back without a grade and the
 * workflow grades the answer with the `gradeAnswer` activity, whose retries and failure are the
 * run's as before. The workflow uses the grade only when the decision agent's answer is the run's
 * answer (it arrived before the deadline); text answers only (code runs in a sandbox, seconds).
 */
import type { CallAgentInput, CallAgentResult } from './call-agent';
import type { GradeResult } from './grading';
import type { Task } from '../core/task';

export type CallAgentAndGradeResult = CallAgentResult & { graded?: GradeResult };

export function makeCallAgentAndGrade(
  callAgent: (input: CallAgentInput) => Promise<CallAgentResult>,
  gradeAnswer: (task: Task, text: string) => Promise<GradeResult>,
): (input: CallAgentInput, task: Task) => Promise<CallAgentAndGradeResult> {
  return async (input, task) => {
    const res = await callAgent(input);
    if (res.status !== 'ok') return res;
    try {
      return { ...res, graded: await gradeAnswer(task, res.text) };
    } catch {
      return res;
    }
  };
}
