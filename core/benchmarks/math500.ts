/** MATH-500: LaTeX problems graded by answer equivalence. */
import { z } from 'zod';
import { Collector, readJsonLines, type ParseOutcome } from './common';

const Math500Record = z.object({
  problem: z.string().trim().min(1),
  answer: z.string().trim().min(1),
  subject: z.string().optional(),
  level: z.number().int().optional(),
  unique_id: z.string().optional(),
});

export function parseMath500(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonLines(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, Math500Record, rec.value);
    if (!r) continue;
    c.add(rec.line, {
      id: `math500/${rec.ordinal}`,
      benchmark: 'math500',
      domain: 'math',
      question: r.problem.trim(),
      answer: { kind: 'math', value: r.answer.trim() },
    });
  }
  return c.outcome();
}
