import type { AnswerKey } from '../../../core/task';
import type { Rng } from '../../../core/random';

/**
 * Answer forms the simulated pool writes and reads back. The simulator needs its own small
 * extractor (the official graders live in core/graders) to judge predecessor answers for the peer
 * effect; it writes the standard final-answer forms every grader accepts.
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

const NUMBER_RE = /-?\$?\d[\d,]*(?:\.\d+)?|-?\.\d+/g;

function lastMatch(text: string, re: RegExp): RegExpExecArray | undefined {
  let last: RegExpExecArray | undefined;
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  for (let m = g.exec(text); m !== null; m = g.exec(text)) last = m;
  return last;
}

function extractNumber(text: string): number | undefined {
  const tagged = lastMatch(text, /answer\s*(?:is)?\s*[:=]?\s*\$?\s*(-?[\d,]*\.?\d+)/i);
  if (tagged?.[1] !== undefined) return parseNumber(tagged[1]);
  const boxed = lastBoxed(text);
  if (boxed !== undefined) {
    const n = parseNumber(boxed);
    if (n !== undefined) return n;
  }
  const any = lastMatch(text, NUMBER_RE);
  return any ? parseNumber(any[0]) : undefined;
}

// ---------- LaTeX ----------

/** Contents of the last \boxed{…}, with nested braces. */
export function lastBoxed(text: string): string | undefined {
  const at = Math.max(text.lastIndexOf('\\boxed{'), text.lastIndexOf('\\fbox{'));
  if (at < 0) return undefined;
  const start = text.indexOf('{', at) + 1;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return text.slice(start, i);
      depth--;
    }
  }
  return undefined;
}

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

const FENCE_RE = /```[ \t]*(?:python|py|python3)?[ \t]*\r?\n([\s\S]*?)```/g;

function lastCodeBlock(text: string): string | undefined {
  const m = lastMatch(text, FENCE_RE);
  return m?.[1];
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The full reference solution: the canonical code, completed with the prelude when it is only a body. */
export function referenceSolution(key: CodeKey): string | undefined {
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
export function breakCode(solution: string, entryPoint: string, rng: Rng): string {
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
 * Reads a (peer's or our own) answer's final form and compares it with the key. `final` of a wrong
 * answer is its final part in standard form, so an agent swayed by it can repeat it.
 */
export function judgeAnswer(text: string, key: AnswerKey): PeerVerdict {
  switch (key.kind) {
    case 'numeric': {
      const got = extractNumber(text);
      const want = parseNumber(key.value);
      if (got === undefined || want === undefined) return { verdict: 'none' };
      return sameNumber(got, want) ? { verdict: 'right' } : { verdict: 'wrong', final: `Answer: ${formatNumber(got)}` };
    }
    case 'choice': {
      const m =
        lastMatch(text, /(?:[Aa]nswer|ANSWER)(?:\s+is)?\s*[:=]?\s*\(?([A-J])\)?(?![A-Za-z])/) ?? lastMatch(text, /\(([A-J])\)/);
      const letter = m?.[1];
      if (letter === undefined) return { verdict: 'none' };
      return letter === key.letter ? { verdict: 'right' } : { verdict: 'wrong', final: `Answer: (${letter})` };
    }
    case 'math': {
      const got = lastBoxed(text);
      if (got === undefined) return { verdict: 'none' };
      return normalizeLatex(got) === normalizeLatex(key.value)
        ? { verdict: 'right' }
        : { verdict: 'wrong', final: `The final answer is $\\boxed{${got}}$.` };
    }
    case 'code': {
      const got = lastCodeBlock(text);
      const ref = referenceSolution(key);
      if (got === undefined || ref === undefined) return { verdict: 'none' };
      return normalizeCode(got) === normalizeCode(ref)
        ? { verdict: 'right' }
        : { verdict: 'wrong', final: codeBlock(got.replace(/\s+$/, '')) };
    }
  }
}
