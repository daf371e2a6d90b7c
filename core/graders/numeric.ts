/**
 * Numeric answers (GSM8K, SVAMP, MultiArith, sample-math): find the model's final number and
 * compare it with the gold value. An explicit final answer (`Answer:`, `####`, `\boxed{}`, "the
 * answer is") wins over the last number in the text, because reasoning usually mentions many.
 */

/** A number found in text: `text` is normalised (no separators or currency), `value` is numeric. */
export interface FoundNumber {
  text: string;
  value: number;
  /** Offset just past the match in the searched text. */
  end: number;
}

const INT = String.raw`(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)`;
const DEC = String.raw`(?:${INT}(?:\.\d+)?|\.\d+)`;
/**
 * Optional sign (not after a word or closing bracket, so `5-3` is two numbers), optional currency,
 * a decimal with thousands separators, and an optional `/denominator` for plain fractions.
 */
const NUMBER_RE = new RegExp(
  String.raw`(?<![\w.)\]])([-−–]\s?)?(?:\\?\$|€|£)?\s?(?<![\d.,])(${DEC})(?:\s?/\s?(${DEC}))?(?![\d])`,
  'g',
);
const LATEX_FRAC_RE = /(-)?\\[dt]?frac\s*\{\s*(-?[\d.,]+)\s*\}\s*\{\s*(-?[\d.,]+)\s*\}/g;

function toNumber(s: string): number {
  return Number(s.replace(/,/g, ''));
}

/** Canonical text of a decimal: no separators, no `+`, no trailing `.0`. */
export function canonicalNumber(raw: string): string | null {
  const found = findNumbers(raw);
  const last = found[found.length - 1];
  return last ? last.text : null;
}

/** Formats a finite number as a short decimal string (`51.0` → `51`). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(12)));
}

function stripZeros(dec: string): string {
  const s = dec.replace(/,/g, '');
  if (!s.includes('.')) return s.replace(/^0+(?=\d)/, '');
  const [i = '', f = ''] = s.split('.');
  const frac = f.replace(/0+$/, '');
  const int = i === '' ? '0' : i.replace(/^0+(?=\d)/, '');
  return frac === '' ? int : `${int}.${frac}`;
}

/** All numbers in `text`, in order. LaTeX `\frac{a}{b}` counts as one number. */
export function findNumbers(text: string): FoundNumber[] {
  const found: FoundNumber[] = [];
  const spans: [number, number][] = [];
  for (const m of text.matchAll(LATEX_FRAC_RE)) {
    const den = toNumber(m[3] ?? '');
    const num = toNumber(m[2] ?? '');
    if (!Number.isFinite(num) || !Number.isFinite(den) || den === 0) continue;
    const sign = m[1] ? '-' : '';
    const start = m.index ?? 0;
    const end = start + m[0].length;
    spans.push([start, end]);
    found.push({ text: `${sign}${stripZeros(m[2] ?? '')}/${stripZeros(m[3] ?? '')}`, value: (sign ? -1 : 1) * (num / den), end });
  }
  for (const m of text.matchAll(NUMBER_RE)) {
    const start = m.index ?? 0;
    if (spans.some(([a, b]) => start >= a && start < b)) continue;
    const neg = m[1] !== undefined;
    const num = toNumber(m[2] ?? '');
    let value = num;
    let canon = stripZeros(m[2] ?? '');
    if (m[3] !== undefined) {
      const den = toNumber(m[3]);
      if (den !== 0) {
        value = num / den;
        canon = `${canon}/${stripZeros(m[3])}`;
      }
    }
    if (!Number.isFinite(value)) continue;
    if (neg && value !== 0) {
      value = -value;
      canon = `-${canon}`;
    }
    found.push({ text: canon, value, end: start + m[0].length });
  }
  return found.sort((a, b) => a.end - b.end);
}

/** Every `\boxed{...}` / `\fbox{...}` (nested braces allowed) with its position; `\boxed 5` too. */
function boxedContents(text: string): { pos: number; content: string }[] {
  const out: { pos: number; content: string }[] = [];
  for (const m of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length;
    let depth = 1;
    let i = open;
    for (; i < text.length && depth > 0; i++) {
      const c = text[i];
      if (c === '\\') {
        i++; // an escaped brace such as \{ does not nest
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth === 0) out.push({ pos: m.index ?? 0, content: text.slice(open, i - 1) });
  }
  for (const m of text.matchAll(/\\boxed\s+([^\s${}]+)/g)) out.push({ pos: m.index ?? 0, content: m[1] ?? '' });
  return out.sort((a, b) => a.pos - b.pos);
}

/** Content of the last `\boxed{...}`, or null. */
export function lastBoxed(text: string): string | null {
  const all = boxedContents(text);
  return all.length > 0 ? (all[all.length - 1]?.content ?? null) : null;
}

/** Markers after which the final answer is stated, most explicit first in intent; the last one found wins. */
const MARKER_RE = /(?:####|\bfinal answer\s*(?:is|:)|\banswer\s*(?:is|:)|\banswer\s*=)\s*/gi;

/**
 * The model's final number: the last explicit answer (marker or `\boxed{}`) that contains a number,
 * else the last number in the text. Returns null when the text has no number at all.
 */
export function extractFinalNumber(text: string): FoundNumber | null {
  type Candidate = { pos: number; num: FoundNumber };
  const candidates: Candidate[] = [];
  for (const b of boxedContents(text)) {
    const nums = findNumbers(b.content);
    const n = nums[nums.length - 1];
    if (n) candidates.push({ pos: b.pos, num: n });
  }
  for (const m of text.matchAll(MARKER_RE)) {
    const after = (m.index ?? 0) + m[0].length;
    // The number must follow on the same line (allowing `$`, `**`, `(` and the like before it).
    const rest = text.slice(after).split('\n')[0] ?? '';
    const n = findNumbers(rest)[0];
    if (n) candidates.push({ pos: m.index ?? 0, num: n });
  }
  if (candidates.length > 0) {
    candidates.sort((a, b) => a.pos - b.pos);
    return candidates[candidates.length - 1]?.num ?? null;
  }
  const all = findNumbers(text);
  return all[all.length - 1] ?? null;
}

/** Exact for integers, 1e-9 relative otherwise (so 3/4 equals 0.75 but 1450000 ≠ 1450001). */
export function numbersEqual(a: number, b: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Numeric value of a gold answer string such as `1,450,000`, `51.0`, `3/4` or `-2`. */
export function parseGoldNumber(gold: string): number | null {
  const nums = findNumbers(gold.trim());
  if (nums.length === 0) return null;
  return nums[nums.length - 1]?.value ?? null;
}

export function gradeNumeric(text: string, gold: string): { correct: boolean; extracted: string | null } {
  const found = extractFinalNumber(text);
  const goldValue = parseGoldNumber(gold);
  if (!found || goldValue === null) return { correct: false, extracted: found ? found.text : null };
  return { correct: numbersEqual(found.value, goldValue), extracted: found.text };
}
