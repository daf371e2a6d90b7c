import type { AnswerKey, Task } from '../../../core/task';
import { extractCode, gradeSync } from '../../../core/graders';
import type { Rng } from '../../../core/random';

/**
 * Answer forms the simulated pool writes, and how it judges what predecessors wrote (with the
 * product's graders, core/graders). It writes the standard final-answer forms every grader accepts.
 */

type CodeKey = Extract<AnswerKey, { kind: 'code' }>;

// ---------- numbers ----------

function parseNumber(s: string): number | undefined {
  const cleaned = s.replace(/[,$\s]/g, '').replace(/\.$/, '');
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 10000) / 10000);
}

function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
}

/** A plausible wrong number: off by one, doubled, halved, a carry slip… never the right one. */
function perturbNumber(v: number, rng: Rng): number {
  const round = (x: number): number => (Number.isInteger(v) ? Math.round(x) : Math.round(x * 100) / 100);
  const candidates = [v + 1, v - 1, v * 2, v / 2, v + 10, v - 10, v * 1.5, v + 2 + rng.int(8)]
    .map(round)
    .filter((x) => !sameNumber(x, v) && (v < 0 || x >= 0));
  return candidates.length > 0 ? rng.pick(candidates) : v + 1;
}

// ---------- LaTeX ----------

function normalizeLatex(s: string): string {
  return s
    .replace(/\\left|\\right|\\!|\\,|\\;|\\:|\\ |\$/g, '')
    .replace(/\\[dt]frac/g, '\\frac')
    .replace(/\\text\{([^}]*)\}/g, '$1')
    .replace(/\^\{?\\circ\}?/g, '')
    .replace(/\s+/g, '')
    .replace(/\.$/, '');
}

function perturbLatex(value: string, rng: Rng): string {
  const asNumber = parseNumber(normalizeLatex(value));
  if (asNumber !== undefined) return formatNumber(perturbNumber(asNumber, rng));
  const digits = [...value.matchAll(/\d/g)];
  if (digits.length > 0) {
    const d = rng.pick(digits);
    const idx = d.index ?? 0;
    const next = String((Number(d[0]) + 1 + rng.int(8)) % 10);
    return value.slice(0, idx) + next + value.slice(idx + 1);
  }
  return `2${value}`;
}

// ---------- code ----------

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The full reference solution: the canonical code, completed with the prelude when it is only a body. */
function referenceSolution(key: CodeKey): string | undefined {
  if (!key.canonical) return undefined;
  const definesEntry = new RegExp(`\\bdef\\s+${escapeRe(key.entryPoint)}\\s*\\(`).test(key.canonical);
  const code = definesEntry || key.prelude === '' ? key.canonical : `${key.prelude}${key.canonical}`;
  return code.replace(/\r\n?/g, '\n').replace(/\s+$/, '');
}

function normalizeCode(code: string): string {
  return code
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '')
    .join('\n');
}

/** Indices of code lines outside triple-quoted strings (docstrings must not be "mutated"). */
function codeLineIndices(lines: readonly string[]): number[] {
  const out: number[] = [];
  let inString = false;
  lines.forEach((line, i) => {
    const quotes = (line.match(/"""|'''/g) ?? []).length;
    if (!inString && quotes === 0) out.push(i);
    if (quotes % 2 === 1) inString = !inString;
  });
  return out;
}

const NEGATE: Readonly<Record<string, string>> = { '<=': '>', '>=': '<', '==': '!=', '!=': '==', '<': '>=', '>': '<=' };

type Mutation = (lines: string[], code: readonly number[]) => boolean;

/** Off-by-one: every range(...) stops one short (one slipped bound alone is often masked by the tests). */
const offByOne: Mutation = (lines, code) => {
  let changed = false;
  for (const i of code) {
    let line = lines[i] ?? '';
    let from = 0;
    for (let at = line.indexOf('range(', from); at >= 0; at = line.indexOf('range(', from)) {
      let depth = 0;
      let end = -1;
      for (let j = at + 5; j < line.length; j++) {
        if (line[j] === '(') depth++;
        else if (line[j] === ')' && --depth === 0) {
          end = j;
          break;
        }
      }
      if (end < 0) break;
      line = `${line.slice(0, end)} - 1${line.slice(end)}`;
      from = end + 4;
      changed = true;
    }
    lines[i] = line;
  }
  return changed;
};

/** Inverted condition: the first comparison of every if/elif/while/return line is negated. */
const invertedCondition: Mutation = (lines, code) => {
  let changed = false;
  for (const i of code) {
    const line = lines[i] ?? '';
    if (!/^\s*(if|elif|while|return)\b/.test(line)) continue;
    const m = /(<=|>=|==|!=|(?<![<>=!-])<(?![<=])|(?<![<>=!-])>(?![>=]))/.exec(line);
    if (!m || m[1] === undefined) continue;
    lines[i] = line.slice(0, m.index) + (NEGATE[m[1]] ?? m[1]) + line.slice(m.index + m[1].length);
    changed = true;
  }
  return changed;
};

/** Forgotten return: the last `return expr` only computes the value, so the function returns None. */
const forgottenReturn: Mutation = (lines, code) => {
  for (const i of [...code].reverse()) {
    const m = /^(\s*)return\s+(\S.*)$/.exec(lines[i] ?? '');
    if (m) {
      lines[i] = `${m[1] ?? ''}result = ${m[2] ?? ''}`;
      return true;
    }
  }
  return false;
};

/**
 * A plausible broken variant of a working solution: two of the bugs above where the code admits
 * two. Run against the HumanEval and MBPP tests (3 draws per item), one bug alone still passed
 * 2–3 % of the time (weak tests mask it); two passed 0 % (HumanEval) and 0.5 % (MBPP).
 */
function breakCode(solution: string, entryPoint: string, rng: Rng): string {
  const order = [offByOne, invertedCondition, forgottenReturn];
  const first = rng.int(order.length);
  const lines = solution.split('\n');
  let applied = 0;
  for (let k = 0; k < order.length && applied < 2; k++) {
    const mutate = order[(first + k) % order.length];
    if (mutate?.(lines, codeLineIndices(lines))) applied++;
  }
  const out = lines.join('\n');
  if (applied > 0 && normalizeCode(out) !== normalizeCode(solution)) return out;
  // Last resort: an early `return None` at the top of the entry point.
  const def = lines.findIndex((l) => new RegExp(`^\\s*def\\s+${escapeRe(entryPoint)}\\s*\\(`).test(l));
  if (def >= 0) {
    const indent = `${/^(\s*)/.exec(lines[def] ?? '')?.[1] ?? ''}    `;
    lines.splice(def + 1, 0, `${indent}return None`);
    return lines.join('\n');
  }
  return `${solution}\n${entryPoint} = None`;
}

function stubSolution(key: CodeKey): string {
  return `def ${key.entryPoint}(*args, **kwargs):\n    # simulated: the task has no reference solution to reproduce\n    raise NotImplementedError`;
}

function codeBlock(code: string): string {
  return `\`\`\`python\n${code}\n\`\`\``;
}

// ---------- public API ----------

/** The final part of a right answer, in the standard form for the task's kind. */
export function rightFinal(key: AnswerKey): string {
  switch (key.kind) {
    case 'numeric': {
      const v = parseNumber(key.value);
      return `Answer: ${v === undefined ? key.value : formatNumber(v)}`;
    }
    case 'choice':
      return `Answer: (${key.letter})`;
    case 'math':
      return `The final answer is $\\boxed{${key.value}}$.`;
    case 'code':
      return codeBlock(referenceSolution(key) ?? stubSolution(key));
  }
}

/** The final part of a plausible wrong answer. */
export function wrongFinal(key: AnswerKey, rng: Rng): string {
  switch (key.kind) {
    case 'numeric': {
      const v = parseNumber(key.value);
      return `Answer: ${v === undefined ? `${key.value}1` : formatNumber(perturbNumber(v, rng))}`;
    }
    case 'choice': {
      const n = Math.max(2, Math.min(10, key.options.length || 4));
      const letters = Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i)).filter((l) => l !== key.letter);
      return `Answer: (${rng.pick(letters)})`;
    }
    case 'math':
      return `The final answer is $\\boxed{${perturbLatex(key.value, rng)}}$.`;
    case 'code': {
      const ref = referenceSolution(key);
      return codeBlock(ref === undefined ? stubSolution(key) : breakCode(ref, key.entryPoint, rng));
    }
  }
}

export type PeerVerdict = { verdict: 'right' } | { verdict: 'wrong'; final: string } | { verdict: 'none' };

/**
 * Judges a (peer's) answer with the product's graders (core/graders): the same extraction and
 * equivalence rules that score runs decide whether a predecessor was right, so the peer effect can
 * never disagree with the score. `final` of a wrong answer is its final part in standard form, so
 * an agent swayed by it can repeat it. Code is the exception: grading it means executing it in the
 * sandbox (activities/grading), too slow per call, so the graders' `extractCode` is compared with
 * the reference solution (a simulated wrong solution is a mutated reference, and those fail the
 * benchmark tests: see breakCode).
 */
export function judgeAnswer(task: Task, text: string): PeerVerdict {
  const key = task.answer;
  if (key.kind === 'code') {
    const ref = referenceSolution(key);
    if (!/```/.test(text) || ref === undefined) return { verdict: 'none' };
    const got = extractCode(text);
    return normalizeCode(got) === normalizeCode(ref)
      ? { verdict: 'right' }
      : { verdict: 'wrong', final: codeBlock(got.replace(/\s+$/, '')) };
  }
  const g = gradeSync(task, text);
  if (!g || g.extracted === null) return { verdict: 'none' };
  if (g.correct) return { verdict: 'right' };
  switch (key.kind) {
    case 'numeric':
      return { verdict: 'wrong', final: `Answer: ${g.extracted}` };
    case 'choice':
      return { verdict: 'wrong', final: `Answer: (${g.extracted})` };
    case 'math':
      return { verdict: 'wrong', final: `The final answer is $\\boxed{${g.extracted}}$.` };
  }
}
