/** Synchronous grading by answer kind; code answers need execution (activities/grading). */
import type { Task } from '../task';
import { gradeChoice } from './choice';
import { gradeMath } from './math';
import { gradeNumeric } from './numeric';

export interface SyncGrade {
  correct: boolean;
  /** The answer the grader read from the text, normalised; null when none was found. */
  extracted: string | null;
}

/** Grades `text` against the task's key; null for code tasks, which must be executed. */
export function gradeSync(task: Task, text: string): SyncGrade | null {
  const key = task.answer;
  switch (key.kind) {
    case 'numeric':
      return gradeNumeric(text, key.value);
    case 'math':
      return gradeMath(text, key.value);
    case 'choice':
      return gradeChoice(text, key.letter, key.options);
    case 'code':
      return null;
  }
}

/**
 * The code in an answer: the last ```python (or ```py) block; else the last fenced block of any
 * language (models often omit the tag); else the whole text.
 */
export function extractCode(text: string): string {
  const blocks = [...text.matchAll(/```[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)(?:```|$)/g)];
  const py = blocks.filter((m) => /^(?:python3?|py)$/i.test(m[1] ?? ''));
  const pick = py.pop() ?? blocks.pop();
  return pick ? (pick[2] ?? '') : text;
}

export { gradeChoice, extractChoice } from './choice';
export { gradeMath, mathEquivalent } from './math';
export { gradeNumeric, extractFinalNumber } from './numeric';
