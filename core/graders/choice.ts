/**
 * Multiple-choice answers (MMLU, AQuA, sample-mc): the chosen option letter. Explicit statements
 * (`Answer: (C)`, "the answer is C", `\boxed{C}`) win; then the last `(C)`; then the last
 * standalone valid letter that is not an English word ("A car", "I think"); finally, when the text
 * names no letter, the option whose text it states last.
 */
import { findNumbers, numbersEqual, parseGoldNumber } from './numeric';

function optionLetters(count: number): string[] {
  return Array.from({ length: Math.max(0, Math.min(count, 10)) }, (_, i) => String.fromCharCode(65 + i));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function normText(s: string): string {
  return s
    .toLowerCase()
    .replace(/\\text\{([^}]*)\}/g, '$1')
    .replace(/[*_`$]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.。]$/, '');
}

/** The option letter whose text equals `s` (normalised, or numerically), if exactly one does. */
function optionMatchingText(s: string, options: readonly string[]): string | null {
  const target = normText(s);
  if (target === '') return null;
  const letters = optionLetters(options.length);
  const exact = options.map((o, i) => (normText(o) === target ? letters[i] : null)).filter((x): x is string => !!x);
  if (exact.length === 1) return exact[0] ?? null;
  const tv = /^[-−$€£\d.,\s/]+%?$/.test(target) ? parseGoldNumber(target) : null;
  if (tv !== null) {
    const numeric = options
      .map((o, i) => {
        const ov = /^[-−$€£\d.,\s/]+%?$/.test(normText(o)) ? parseGoldNumber(o) : null;
        return ov !== null && numbersEqual(ov, tv) ? letters[i] : null;
      })
      .filter((x): x is string => !!x);
    if (numeric.length === 1) return numeric[0] ?? null;
  }
  return null;
}

/** Position just past the last occurrence of option text `opt` in `text` (word-bounded), or -1. */
function lastOptionPosition(text: string, opt: string): number {
  const o = normText(opt);
  if (o === '') return -1;
  const lower = text.toLowerCase();
  let best = -1;
  const re = new RegExp(`(?<![\\w.])${escapeRe(o)}(?![\\w])`, 'g');
  for (const m of lower.matchAll(re)) best = (m.index ?? 0) + m[0].length;
  // numeric options also match the same number written differently (`67.4` for `$67.40`)
  const ov = /^[-−$€£\d.,\s/]+%?$/.test(o) ? parseGoldNumber(o) : null;
  if (ov !== null) {
    for (const n of findNumbers(text)) if (numbersEqual(n.value, ov) && n.end > best) best = n.end;
  }
  return best;
}

/** Words after which a standalone `A`/`I` is an option being discussed, not the article or pronoun. */
const CHOICE_FOLLOWER =
  /^\s+(?:is|was|seems|appears|looks|fits|matches|and|or|because|since|would|should|could|must|can|has|remains|also|only|best|correct|wrong|right|incorrect)\b/;

export function extractChoice(text: string, options: readonly string[]): string | null {
  const letters = optionLetters(options.length > 0 ? options.length : 5);
  const cls = `[${letters.join('')}]`;

  // 1. explicit final answer: a letter, else option text after the marker
  const marker = new RegExp(
    String.raw`(?:\banswer|\b(?:correct|best|right) (?:option|choice))\s*(?:is|:|=)?\s*(?:\*\*)?\s*:?\s*([^\n]*)`,
    'gi',
  );
  const letterAtStart = new RegExp(String.raw`^(?:option\s*|\\boxed\{|\\textbf\{)?[\(\[]?(${cls})(?![\w'])`);
  let explicit: string | null = null;
  for (const m of text.matchAll(marker)) {
    const rest = (m[1] ?? '').trim().replace(/^\*+|\*+$/g, '').trim();
    const lm = letterAtStart.exec(rest);
    if (lm?.[1]) {
      explicit = lm[1];
      continue;
    }
    const byText = optionMatchingText(rest.replace(/[.!]\s*$/, ''), options);
    if (byText) explicit = byText;
  }
  const boxed = [...text.matchAll(new RegExp(String.raw`\\boxed\{\s*\(?(${cls})\)?\s*\}`, 'g'))].pop();
  if (boxed?.[1]) {
    // a boxed letter after the last marker wins
    const lastMarker = [...text.matchAll(marker)].pop();
    if (!explicit || (boxed.index ?? 0) > (lastMarker?.index ?? -1)) explicit = boxed[1];
  }
  if (explicit) return explicit;

  // 2. the last parenthesised letter
  // not `P(B)`: a letter in parentheses right after a word is notation, not a choice
  const paren = [...text.matchAll(new RegExp(String.raw`(?<!\w)\((${cls})\)`, 'g'))].pop();
  if (paren?.[1]) return paren[1];

  // 3. the last standalone letter that is not the article "A" or the pronoun "I"
  const standalone = [...text.matchAll(new RegExp(String.raw`(?<![\w'’-])(${cls})(?![\w'’-])`, 'g'))].filter((m) => {
    const after = text.slice((m.index ?? 0) + 1, (m.index ?? 0) + 40);
    return !((m[1] === 'A' || m[1] === 'I') && /^\s+[a-z]/.test(after) && !CHOICE_FOLLOWER.test(after));
  });
  const lastLetter = standalone.pop();
  if (lastLetter?.[1]) return lastLetter[1];

  // 4. option text
  let best: { letter: string; pos: number; len: number } | null = null;
  options.forEach((opt, i) => {
    const pos = lastOptionPosition(text, opt);
    const letter = letters[i];
    if (pos < 0 || !letter) return;
    if (!best || pos > best.pos || (pos === best.pos && opt.length > best.len)) best = { letter, pos, len: opt.length };
  });
  return best === null ? null : (best as { letter: string }).letter;
}

export function gradeChoice(
  text: string,
  letter: string,
  options: readonly string[],
): { correct: boolean; extracted: string | null } {
  const extracted = extractChoice(text, options);
  return { correct: extracted === letter.toUpperCase(), extracted };
}
