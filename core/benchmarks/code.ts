/** Code benchmarks: HumanEval (function completion) and MBPP (assert lists). */
import { z } from 'zod';
import { Collector, readJsonLines, type ParseOutcome } from './common';

const HumanEvalRecord = z.object({
  task_id: z.string().regex(/^HumanEval\/\d+$/, 'expected "HumanEval/<n>"'),
  prompt: z.string().min(1),
  entry_point: z.string().regex(/^[A-Za-z_]\w*$/, 'not a python identifier'),
  canonical_solution: z.string(),
  test: z.string().regex(/def check\(/, 'expected a check(candidate) function'),
});

export function parseHumanEval(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonLines(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, HumanEvalRecord, rec.value);
    if (!r) continue;
    const n = r.task_id.split('/')[1] ?? '';
    c.add(rec.line, {
      id: `humaneval/${n}`,
      benchmark: 'humaneval',
      domain: 'code',
      question: `Complete the following Python function:\n\n\`\`\`python\n${r.prompt.trimEnd()}\n\`\`\``,
      answer: {
        kind: 'code',
        language: 'python',
        entryPoint: r.entry_point,
        // the answer may be the body only or the whole function; the prompt first makes both run
        prelude: r.prompt,
        tests: `${r.test.trimEnd()}\n\ncheck(${r.entry_point})\n`,
        canonical: r.prompt + r.canonical_solution,
      },
    });
  }
  return c.outcome();
}

const MbppRecord = z.object({
  task_id: z.number().int().positive(),
  text: z.string().trim().min(1),
  code: z.string().min(1),
  test_setup_code: z.string().default(''),
  test_list: z.array(z.string().regex(/^\s*assert\b/, 'expected an assert statement')).min(1),
});

/** The function the tests call: a `def` of the reference code that the asserts use, else the first call. */
function mbppEntryPoint(code: string, tests: readonly string[]): string | null {
  const defs = [...code.matchAll(/^def\s+([A-Za-z_]\w*)/gm)].map((m) => m[1] ?? '');
  const called = defs.find((d) => tests.some((t) => new RegExp(`\\b${d}\\s*\\(`).test(t)));
  if (called) return called;
  const first = /assert\s+(?:not\s+)?\(?\s*([A-Za-z_]\w*)\s*\(/.exec(tests[0] ?? '');
  return first?.[1] ?? defs[0] ?? null;
}

export function parseMbpp(text: string, fileName: string): ParseOutcome {
  const c = new Collector(fileName);
  for (const rec of readJsonLines(text)) {
    if (rec.error !== undefined) {
      c.fail(rec.line, rec.error);
      continue;
    }
    const r = c.check(rec.line, MbppRecord, rec.value);
    if (!r) continue;
    const entryPoint = mbppEntryPoint(r.code, r.test_list);
    if (!entryPoint) {
      c.fail(rec.line, 'cannot tell which function the tests call');
      continue;
    }
    const setup = r.test_setup_code.replace(/\r\n/g, '\n').trim();
    c.add(rec.line, {
      id: `mbpp/${r.task_id}`,
      benchmark: 'mbpp',
      domain: 'code',
      question: `${r.text.trim()}\n\nYour code should pass these tests:\n\n${r.test_list.join('\n')}`,
      answer: {
        kind: 'code',
        language: 'python',
        entryPoint,
        prelude: '',
        // setup code (rare) builds test fixtures from the candidate's classes, so it runs after the candidate
        tests: `${setup ? `${setup}\n` : ''}${r.test_list.join('\n')}\n`,
        canonical: r.code.replace(/\r\n/g, '\n'),
      },
    });
  }
  return c.outcome();
}
