/**
 * Shared plumbing for the pure benchmark parsers: record-level issues with `file:line`, JSONL and
 * JSON-array scanning that keeps line numbers, and zod error formatting. No I/O here.
 */
import type { z } from 'zod';
import type { Task } from '../task';

/** One bad record: where it starts and why it was rejected. */
export interface ParseIssue {
  file: string;
  /** 1-based line where the record starts. */
  line: number;
  reason: string;
}

/** A parser's result: the good tasks and one issue per rejected record (never both for the same record). */
export interface ParseOutcome {
  tasks: Task[];
  issues: ParseIssue[];
}

export function formatIssue(issue: ParseIssue): string {
  return `${issue.file}:${issue.line}: ${issue.reason}`;
}

/** A one-line reason from a zod error: `path: message; path: message` (first three issues). */
function zodReason(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((i) => {
    const where = i.path.length > 0 ? i.path.map(String).join('.') : 'record';
    return `${where}: ${i.message}`;
  });
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return parts.join('; ') + more;
}

/** Collects tasks and issues for one file, rejecting duplicate task ids. */
export class Collector {
  readonly tasks: Task[] = [];
  readonly issues: ParseIssue[] = [];
  private readonly ids = new Set<string>();

  constructor(readonly file: string) {}

  add(line: number, task: Task): void {
    if (this.ids.has(task.id)) {
      this.fail(line, `duplicate task id ${task.id}`);
      return;
    }
    this.ids.add(task.id);
    this.tasks.push(task);
  }

  fail(line: number, reason: string): void {
    this.issues.push({ file: this.file, line, reason });
  }

  /** Validates `raw` with `schema`; on failure records an issue and returns undefined. */
  check<T>(line: number, schema: z.ZodType<T>, raw: unknown): T | undefined {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.fail(line, zodReason(parsed.error));
    return undefined;
  }

  outcome(): ParseOutcome {
    return { tasks: this.tasks, issues: this.issues };
  }
}

/** A raw record with the line it starts on; `value` is undefined when its JSON did not parse. */
export interface RawRecord {
  line: number;
  /** 0-based position among the file's records (stable ids for index-based benchmarks). */
  ordinal: number;
  value?: unknown;
  error?: string;
}

/**
 * The largest dataset record (one JSONL line or JSON array element) accepted, in UTF-8 bytes: a
 * record travels inside workflow inputs, and Temporal refuses payloads over 2 MB.
 */
const MAX_RECORD_BYTES = 256 * 1024;

function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** A reason when a record's text is over MAX_RECORD_BYTES (cheap for the usual short records). */
export function oversized(raw: string): string | undefined {
  if (raw.length * 3 <= MAX_RECORD_BYTES) return undefined;
  const bytes = utf8Bytes(raw);
  return bytes > MAX_RECORD_BYTES ? `record is ${bytes} bytes, over the ${MAX_RECORD_BYTES / 1024} KiB limit` : undefined;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** One record's JSON text: refused when over the size limit, else parsed (an error, never a throw). */
function jsonRecord(text: string, line: number, ordinal: number): RawRecord {
  const rec: RawRecord = { line, ordinal };
  const tooBig = oversized(text);
  if (tooBig) {
    rec.error = tooBig;
    return rec;
  }
  try {
    rec.value = JSON.parse(text);
  } catch (e) {
    rec.error = `invalid JSON: ${(e as Error).message}`;
  }
  return rec;
}

/** JSON Lines: one record per non-blank line. */
export function readJsonLines(text: string): RawRecord[] {
  const out: RawRecord[] = [];
  const lines = stripBom(text).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (raw.trim() === '') continue;
    out.push(jsonRecord(raw, i + 1, out.length));
  }
  return out;
}

/**
 * A top-level JSON array, split into its elements without losing line numbers, so one broken
 * element is reported (and can be skipped) on its own. A broken array structure is one record with
 * an error at the line where scanning stopped.
 */
export function readJsonArray(text: string): RawRecord[] {
  const src = stripBom(text);
  const out: RawRecord[] = [];
  let pos = 0;
  let line = 1;
  const advance = (to: number): void => {
    for (; pos < to; pos++) if (src.charCodeAt(pos) === 10) line++;
  };
  const skipWs = (): void => {
    while (pos < src.length && /\s/.test(src[pos] ?? '')) advance(pos + 1);
  };
  const structural = (reason: string): RawRecord[] => {
    out.push({ line, ordinal: out.length, error: reason });
    return out;
  };

  skipWs();
  if (src[pos] !== '[') return structural('expected a JSON array');
  advance(pos + 1);
  for (;;) {
    skipWs();
    if (pos >= src.length) return structural('unterminated JSON array');
    if (src[pos] === ']') break;
    const startLine = line;
    const start = pos;
    // Scan one value: track nesting and strings so commas inside it are not separators.
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let i = pos; i < src.length; i++) {
      const c = src[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) {
          end = i; // the array's closing bracket ends a primitive element
          break;
        }
        depth--;
      } else if (c === ',' && depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      advance(src.length);
      return structural('unterminated JSON array');
    }
    const slice = src.slice(start, end);
    out.push(jsonRecord(slice, startLine, out.length));
    advance(end);
    if (src[pos] === ',') advance(pos + 1);
  }
  advance(pos + 1);
  skipWs();
  if (pos < src.length) return structural('unexpected text after the JSON array');
  return out;
}

/** Multiple-choice question text: the stem, then one `(A) option` line per option. */
export function formatChoiceQuestion(stem: string, options: readonly string[]): string {
  const lines = options.map((o, i) => `(${String.fromCharCode(65 + i)}) ${o}`);
  return `${stem.trim()}\n\n${lines.join('\n')}`;
}
