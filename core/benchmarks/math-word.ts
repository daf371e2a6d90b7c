/** Numeric word-problem benchmarks: GSM8K, SVAMP, MultiArith. */
import { z } from 'zod';
import { canonicalNumber, formatNumber } from '../graders/numeric';
import { Collector, readJsonArray, readJsonLines, type ParseOutcome } from './common';

const GsmRecord = z.object({
  question: z.string().trim().min(1),
  answer: z.string().regex(/####\s*\S/, 'expected the final answer after "####"'),
});

export function parseGsm8k(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonLines(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, GsmRecord, rec.value);
    if (!r) continue;
    const final = r.answer.slice(r.answer.lastIndexOf('####') + 4).trim();
    const value = canonicalNumber(final);
    if (value === null) {
      c.fail(rec.line, `answer: no number after "####" (${JSON.stringify(final.slice(0, 40))})`);
      continue;
    }
    c.add(rec.line, {
      id: `gsm8k/${rec.ordinal}`,
      benchmark: 'gsm8k',
      domain: 'math',
      question: r.question.trim(),
      answer: { kind: 'numeric', value },
    });
  }
  return c.outcome();
}

const SvampRecord = z.object({
  ID: z.string().min(1),
  Body: z.string(),
  Question: z.string().trim().min(1),
  Answer: z.number().finite(),
});

export function parseSvamp(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonArray(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, SvampRecord, rec.value);
    if (!r) continue;
    c.add(rec.line, {
      id: `svamp/${r.ID}`,
      benchmark: 'svamp',
      domain: 'math',
      question: `${r.Body.trim()} ${r.Question.trim()}`.trim(),
      answer: { kind: 'numeric', value: formatNumber(r.Answer) },
    });
  }
  return c.outcome();
}

const MultiArithRecord = z.object({
  iIndex: z.number().int().nonnegative(),
  sQuestion: z.string().trim().min(1),
  lSolutions: z.array(z.number().finite()).min(1),
});

export function parseMultiArith(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonArray(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, MultiArithRecord, rec.value);
    if (!r) continue;
    c.add(rec.line, {
      id: `multiarith/${r.iIndex}`,
      benchmark: 'multiarith',
      domain: 'math',
      question: r.sQuestion.trim(),
      answer: { kind: 'numeric', value: formatNumber(r.lSolutions[0] ?? 0) },
    });
  }
  return c.outcome();
}
