/** Multiple-choice benchmarks: MMLU (headerless CSV per subject) and AQuA (JSON Lines). */
import { z } from 'zod';
import { Collector, formatChoiceQuestion, oversized, readJsonLines, type ParseOutcome } from './common';
import { parseCsv } from './csv';

const MmluRow = z.tuple([
  z.string().trim().min(1, 'empty question'),
  z.string(),
  z.string(),
  z.string(),
  z.string(),
  z.string().trim().regex(/^[ABCD]$/, 'answer must be one of A, B, C, D'),
]);

/** `…/abstract_algebra_test.csv` → `abstract_algebra`. */
function mmluSubject(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  return base.replace(/\.csv$/i, '').replace(/_(?:test|dev|val)$/i, '');
}

export function parseMmluCsv(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  const subject = mmluSubject(fileName);
  const { rows, error } = parseCsv(text);
  rows.forEach((row, index) => {
    const tooBig = oversized(row.fields.join(','));
    if (tooBig) {
      c.fail(row.line, tooBig);
      return;
    }
    if (row.fields.length !== 6) {
      c.fail(row.line, `expected 6 columns (question, A, B, C, D, answer), got ${row.fields.length}`);
      return;
    }
    const r = c.check(row.line, MmluRow, row.fields);
    if (!r) return;
    const [question, a, b, cc, d, letter] = r;
    const options = [a, b, cc, d].map((o) => o.trim());
    c.add(row.line, {
      id: `mmlu/${subject}/${index}`,
      benchmark: 'mmlu',
      domain: 'knowledge',
      question: formatChoiceQuestion(question, options),
      answer: { kind: 'choice', letter: letter.trim(), options },
    });
  });
  if (error) c.fail(error.line, error.reason);
  return c.outcome();
}

const AquaRecord = z.object({
  question: z.string().trim().min(1),
  options: z
    .array(z.string().regex(/^\s*[A-E]\s*\)/, 'option must start with its letter, like "A)"'))
    .length(5),
  correct: z.string().trim().regex(/^[A-E]$/, 'correct must be one of A–E'),
});

export function parseAqua(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonLines(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, AquaRecord, rec.value);
    if (!r) continue;
    const letters = r.options.map((o) => o.trim()[0]);
    if (letters.join('') !== 'ABCDE') {
      c.fail(rec.line, `options: expected letters A–E in order, got ${letters.join('')}`);
      continue;
    }
    const options = r.options.map((o) => o.replace(/^\s*[A-E]\s*\)\s*/, '').trim());
    c.add(rec.line, {
      id: `aqua/${rec.ordinal}`,
      benchmark: 'aqua',
      domain: 'math',
      question: formatChoiceQuestion(r.question, options),
      answer: { kind: 'choice', letter: r.correct.trim(), options },
    });
  }
  return c.outcome();
}
