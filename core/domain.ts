import { z } from 'zod';

/** Task domains; each has its own role set and graders. */
export const DomainSchema = z.enum(['math', 'knowledge', 'code']);
export type Domain = z.infer<typeof DomainSchema>;

/** Benchmarks the product knows; `sample-*` are the built-in samples that need no external data. */
export const BenchmarkIdSchema = z.enum([
  'gsm8k',
  'svamp',
  'multiarith',
  'math500',
  'aqua',
  'mmlu',
  'humaneval',
  'mbpp',
  'sample-math',
  'sample-mc',
  'sample-code',
]);
export type BenchmarkId = z.infer<typeof BenchmarkIdSchema>;

export const BENCHMARK_DOMAIN: Readonly<Record<BenchmarkId, Domain>> = {
  gsm8k: 'math',
  svamp: 'math',
  multiarith: 'math',
  math500: 'math',
  aqua: 'math',
  mmlu: 'knowledge',
  humaneval: 'code',
  mbpp: 'code',
  'sample-math': 'math',
  'sample-mc': 'knowledge',
  'sample-code': 'code',
};
