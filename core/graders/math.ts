/**
 * MATH-style answer equivalence. The answer is the last `\boxed{}` (else an `Answer:` line, else
 * the last `$...$` or number). Both sides are normalised (the usual MATH `strip_string` rules plus
 * a few more), then compared as strings, as tuples/intervals element by element, as unordered
 * lists, and finally by evaluating them as numeric expressions (with single-letter variables
 * sampled at fixed points), so `0.5` = `\frac12` and `2\sqrt{2}` = `\sqrt{8}`.
 */
import { findNumbers, lastBoxed } from './numeric';

/** Replaces `\cmd{content}` (balanced braces) by `content`. */
function unwrapCommand(s: string, cmd: string): string {
  const needle = `\\${cmd}{`;
  let out = s;
  for (let idx = out.indexOf(needle); idx >= 0; idx = out.indexOf(needle)) {
    const open = idx + needle.length;
    let depth = 1;
    let i = open;
    for (; i < out.length && depth > 0; i++) {
      if (out[i] === '{') depth++;
      else if (out[i] === '}') depth--;
    }
    if (depth !== 0) break;
    out = out.slice(0, idx) + out.slice(open, i - 1) + out.slice(i);
  }
  return out;
}

/** `\frac12` → `\frac{1}{2}`, `\frac1{x}` → `\frac{1}{x}`, `\sqrt2` → `\sqrt{2}`. */
function fixBraces(s: string): string {
  let out = s.replace(/\\sqrt\s*([0-9a-zA-Z])/g, '\\sqrt{$1}');
  out = out.replace(/\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])/g, '\\frac{$1}{$2}');
  out = out.replace(/\\frac\s*([0-9a-zA-Z])\s*\{/g, '\\frac{$1}{');
  out = out.replace(/\\frac\s*(\{[^{}]*\})\s*([0-9a-zA-Z])/g, '\\frac$1{$2}');
  return out;
}

/** Canonical string form of a MATH answer. */
function normalizeMathAnswer(raw: string): string {
  let s = raw.trim();
  s = s.replace(/^\$+|\$+$/g, '');
  s = s.replace(/\\\[|\\\]|\\\(|\\\)/g, '');
  s = s.replace(/\n/g, ' ');
  s = s.replace(/\\displaystyle/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac');
  s = s.replace(/\\left\s*|\\right\s*/g, '');
  s = s.replace(/\\big[lr]?|\\Big[lr]?/g, '');
  s = s.replace(/\\[!,;:]|\\quad|\\qquad|~|\\ /g, ' ');
  // Units written as `\text{ cm}` (leading space) are dropped, as in MATH's own normaliser.
  s = s.replace(/\\(?:text|mbox)\s*\{\s+[a-zA-Z ]*\}(?:\^\s*\{?\s*[23]\s*\}?)?/g, '');
  for (const cmd of ['text', 'textbf', 'textit', 'mbox', 'mathrm', 'mathbf', 'mathit', 'operatorname', 'boxed']) {
    s = unwrapCommand(s, cmd);
  }
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\bdegrees?\b/g, '');
  s = s.replace(/\\\$|\$/g, '');
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/\{,\}/g, '');
  s = s.replace(/\\le(?![a-z])/g, '\\leq').replace(/\\ge(?![a-z])/g, '\\geq');
  s = s.replace(/\\neq/g, '\\ne');
  s = fixBraces(s);
  s = s.replace(/\s+/g, '');
  s = s.replace(/\.$/, '');
  // `x=5`, `\theta=5`, `x\in[2,5)` → the value
  s = s.replace(/^(?:[a-zA-Z]|\\[a-zA-Z]+)(?:=|\\in)(?!.*=)/, '');
  // thousands separators in a plain number
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  // `.5` → `0.5`, `a/b` of integers → \frac{a}{b}
  s = s.replace(/(^|[^\d])\.(\d)/g, (_m, pre: string, d: string) => `${pre}0.${d}`);
  // base subscripts: `52_{8}` → `52_8`
  s = s.replace(/_\{(\w+)\}/g, '_$1');
  const frac = /^(-?)(\d+)\/(\d+)$/.exec(s);
  if (frac) s = `${frac[1]}\\frac{${frac[2]}}{${frac[3]}}`;
  // `\frac{a}{b}` → `a/b` is not applied; the evaluator compares values instead
  return s;
}

// ---------------------------------------------------------------- expression evaluation

type Env = Readonly<Record<string, number>>;
type Node = (env: Env) => number;

class ParseError extends Error {}

const FUNCS: Readonly<Record<string, (x: number) => number>> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  cot: (x) => 1 / Math.tan(x),
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
  ln: Math.log,
  log: Math.log10,
  exp: Math.exp,
};

interface Token {
  t: 'num' | 'var' | 'cmd' | 'op';
  v: string;
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    const num = /^\d+(?:\.\d+)?|^\.\d+/.exec(s.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
    } else if (c === '\\') {
      const cmd = /^\\([a-zA-Z]+)/.exec(s.slice(i));
      if (!cmd) throw new ParseError(`bad command at ${i}`);
      out.push({ t: 'cmd', v: cmd[1] ?? '' });
      i += cmd[0].length;
    } else if (/[a-zA-Z]/.test(c)) {
      out.push({ t: 'var', v: c });
      i++;
    } else if ('+-*/^(){}[]'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      throw new ParseError(`unexpected ${c}`);
    }
  }
  return out;
}

/** Recursive-descent parser for the LaTeX arithmetic subset found in MATH answers. */
class ExprParser {
  private i = 0;
  readonly vars = new Set<string>();
  constructor(private readonly toks: Token[]) {}

  parse(): Node {
    const n = this.expr();
    if (this.i !== this.toks.length) throw new ParseError('trailing input');
    return n;
  }

  private peek(): Token | undefined {
    return this.toks[this.i];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  }
  private isCmd(...names: string[]): boolean {
    const t = this.peek();
    return t !== undefined && t.t === 'cmd' && names.includes(t.v);
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new ParseError(`expected ${v}`);
    this.i++;
  }

  private expr(): Node {
    let left = this.term();
    for (;;) {
      if (this.isOp('+')) {
        this.i++;
        const l = left;
        const r = this.term();
        left = (e) => l(e) + r(e);
      } else if (this.isOp('-')) {
        this.i++;
        const l = left;
        const r = this.term();
        left = (e) => l(e) - r(e);
      } else return left;
    }
  }

  /** Starts a factor that may follow another without an operator (implicit multiplication). */
  private startsFactor(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.t === 'num' || t.t === 'var') return true;
    if (t.t === 'op') return t.v === '(' || t.v === '{';
    return t.v === 'frac' || t.v === 'sqrt' || t.v === 'pi' || t.v === 'infty' || t.v in FUNCS;
  }

  private term(): Node {
    let left = this.unary();
    let prevBareVar = this.lastWasBareVar;
    for (;;) {
      if (this.isOp('*') || this.isCmd('cdot', 'times')) {
        this.i++;
        const l = left;
        const r = this.unary();
        left = (e) => l(e) * r(e);
      } else if (this.isOp('/') || this.isCmd('div')) {
        this.i++;
        const l = left;
        const r = this.unary();
        left = (e) => l(e) / r(e);
      } else if (this.startsFactor()) {
        const t = this.peek();
        // Two bare letters in a row are a word (`Evelyn`), not a product: refuse, compare as text.
        if (prevBareVar && t && (t.t === 'var' || t.t === 'num')) throw new ParseError('adjacent letters');
        const l = left;
        const r = this.power();
        left = (e) => l(e) * r(e);
      } else return left;
      prevBareVar = this.lastWasBareVar;
    }
  }

  private unary(): Node {
    if (this.isOp('-')) {
      this.i++;
      const n = this.unary();
      return (e) => -n(e);
    }
    if (this.isOp('+')) {
      this.i++;
      return this.unary();
    }
    return this.power();
  }

  private lastWasBareVar = false;

  private power(): Node {
    const base = this.primary();
    const bareVar = this.lastWasBareVar;
    if (this.isOp('^')) {
      this.i++;
      const exp = this.isOp('-') ? (this.i++, ((n: Node): Node => (e) => -n(e))(this.primary())) : this.primary();
      this.lastWasBareVar = false;
      return (e) => Math.pow(base(e), exp(e));
    }
    this.lastWasBareVar = bareVar;
    return base;
  }

  private group(): Node {
    if (this.isOp('{')) {
      this.i++;
      const n = this.expr();
      this.expect('}');
      return n;
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('unexpected end');
    this.lastWasBareVar = false;
    if (t.t === 'num') {
      this.i++;
      const v = Number(t.v);
      return () => v;
    }
    if (t.t === 'var') {
      this.i++;
      this.vars.add(t.v);
      this.lastWasBareVar = true;
      const name = t.v;
      return (e) => {
        const v = e[name];
        if (v === undefined) throw new ParseError(`unbound ${name}`);
        return v;
      };
    }
    if (t.t === 'op') {
      if (t.v === '(' || t.v === '{') {
        this.i++;
        const n = this.expr();
        this.expect(t.v === '(' ? ')' : '}');
        return n;
      }
      throw new ParseError(`unexpected ${t.v}`);
    }
    this.i++;
    switch (t.v) {
      case 'pi':
        return () => Math.PI;
      case 'infty':
        return () => Infinity;
      case 'frac': {
        const a = this.group();
        const b = this.group();
        return (e) => a(e) / b(e);
      }
      case 'sqrt': {
        let index: Node = () => 2;
        if (this.isOp('[')) {
          this.i++;
          index = this.expr();
          this.expect(']');
        }
        const arg = this.group();
        return (e) => Math.pow(arg(e), 1 / index(e));
      }
      default: {
        const f = FUNCS[t.v];
        if (!f) throw new ParseError(`unknown \\${t.v}`);
        let exponent: Node | null = null;
        if (this.isOp('^')) {
          this.i++;
          exponent = this.primary();
        }
        const arg = this.power();
        const ex = exponent;
        return ex ? (e) => Math.pow(f(arg(e)), ex(e)) : (e) => f(arg(e));
      }
    }
  }
}

/** A compiled expression, or null when the text is not in the supported arithmetic subset. */
function compile(s: string): { fn: Node; vars: Set<string> } | null {
  if (s === '' || s.length > 200) return null;
  try {
    const p = new ExprParser(tokenize(s));
    const fn = p.parse();
    return { fn, vars: p.vars };
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
}

const SAMPLE_POINTS = [0.7391, 1.3217, 2.1131, 0.4142];

function valuesClose(a: number, b: number): boolean {
  if (a === b) return true; // includes ±Infinity
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Numeric/symbolic equality of two normalised expressions; null when either is not evaluable. */
function expressionsEqual(a: string, b: string): boolean | null {
  const ca = compile(a);
  const cb = compile(b);
  if (!ca || !cb) return null;
  const vars = [...new Set([...ca.vars, ...cb.vars])].sort();
  if (vars.length > 0 && (ca.vars.size !== cb.vars.size || [...ca.vars].some((v) => !cb.vars.has(v)))) return false;
  const rounds = vars.length === 0 ? 1 : 3;
  let compared = 0;
  for (let r = 0; r < rounds; r++) {
    const env: Record<string, number> = {};
    vars.forEach((v, k) => {
      env[v] = SAMPLE_POINTS[(r + k) % SAMPLE_POINTS.length] ?? 1;
    });
    let va: number;
    let vb: number;
    try {
      va = ca.fn(env);
      vb = cb.fn(env);
    } catch (e) {
      if (e instanceof ParseError) return null;
      throw e;
    }
    if (Number.isNaN(va) && Number.isNaN(vb)) continue;
    if (!valuesClose(va, vb)) return false;
    compared++;
  }
  return compared > 0;
}

// ---------------------------------------------------------------- structure: tuples, intervals, lists

/** Splits at top-level occurrences of `sep` (outside (), [], {}). */
function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** `(a,b]`-style wrapper: the brackets and the comma-separated items, when the whole string is one. */
function bracketed(s: string): { open: string; close: string; items: string[] } | null {
  const t = s.replace(/\\\{/g, '{').replace(/\\\}/g, '}');
  const open = t[0];
  const close = t[t.length - 1];
  if (!open || !close || !'([{'.includes(open) || !')]}'.includes(close)) return null;
  // the opening bracket must close at the very end
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    if (depth === 0 && i < t.length - 1) return null;
  }
  const inner = t.slice(1, -1);
  const items = splitTopLevel(inner, ',');
  if (items.length < 2) return null;
  return { open, close, items };
}

function equivalentNormalized(a: string, b: string, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 4) return false;
  // unions of intervals: compare piece by piece
  const ua = splitTopLevel(a, '\\cup');
  const ub = splitTopLevel(b, '\\cup');
  if (ua.length > 1 || ub.length > 1) {
    return ua.length === ub.length && ua.every((p, i) => equivalentNormalized(p, ub[i] ?? '', depth + 1));
  }
  const ba = bracketed(a);
  const bb = bracketed(b);
  if (ba || bb) {
    if (!ba || !bb || ba.items.length !== bb.items.length) return false;
    // sets `{...}` are unordered; tuples and intervals keep order and bracket kinds
    if (ba.open === '{' && bb.open === '{') return sameMultiset(ba.items, bb.items, depth);
    if (ba.open !== bb.open || ba.close !== bb.close) return false;
    return ba.items.every((x, i) => equivalentNormalized(x, bb.items[i] ?? '', depth + 1));
  }
  const la = splitTopLevel(a, ',');
  const lb = splitTopLevel(b, ',');
  if (la.length > 1 || lb.length > 1) {
    // a bare list of solutions: order does not matter
    return la.length === lb.length && sameMultiset(la, lb, depth);
  }
  return expressionsEqual(a, b) === true;
}

function sameMultiset(a: string[], b: string[], depth: number): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((x) => {
    const k = b.findIndex((y, j) => !used[j] && equivalentNormalized(x, y, depth + 1));
    if (k < 0) return false;
    used[k] = true;
    return true;
  });
}

/** True when two MATH answers are equivalent. */
export function mathEquivalent(a: string, b: string): boolean {
  return equivalentNormalized(normalizeMathAnswer(a), normalizeMathAnswer(b));
}

/** The model's final MATH answer: last `\boxed{}`, else `Answer:` line, else last `$...$`, else last number. */
function extractMathAnswer(text: string): string | null {
  const boxed = lastBoxed(text);
  if (boxed !== null) return boxed.trim();
  const marked = [...text.matchAll(/(?:final answer|answer)\s*(?:is|:)\s*([^\n]+)/gi)].pop();
  if (marked?.[1]) {
    const v = marked[1].trim().replace(/\.$/, '').replace(/^\*+|\*+$/g, '').trim();
    if (v !== '') return v;
  }
  const dollars = [...text.matchAll(/\$([^$]+)\$/g)].pop();
  if (dollars?.[1]) return dollars[1].trim();
  const nums = findNumbers(text);
  return nums.length > 0 ? (nums[nums.length - 1]?.text ?? null) : null;
}

export function gradeMath(text: string, gold: string): { correct: boolean; extracted: string | null } {
  const extracted = extractMathAnswer(text);
  if (extracted === null) return { correct: false, extracted: null };
  return { correct: mathEquivalent(extracted, gold), extracted };
}
