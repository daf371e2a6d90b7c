/**
 * Registry of external benchmarks: where their files live inside a dataset folder and which pure
 * parser reads them. File and folder reading is in activities/datasets.ts.
 */
import type { BenchmarkId } from '../domain';
import { parseAqua, parseMmluCsv } from './choice';
import { parseHumanEval, parseMbpp } from './code';
import type { ParseOutcome } from './common';
import { parseMath500 } from './math500';
import { parseGsm8k, parseMultiArith, parseSvamp } from './math-word';

export type SampleBenchmarkId = Extract<BenchmarkId, `sample-${string}`>;
export type ExternalBenchmarkId = Exclude<BenchmarkId, SampleBenchmarkId>;

type Parser = (text: string, fileName: string) => ParseOutcome;

export interface BenchmarkSource {
  /** Folder name under the shared datasets directory. */
  folder: string;
  /**
   * `file`: one file, the first of `files` that exists (`.gz` is gunzipped);
   * `csv-folder`: every `*<suffix>` file in `subfolder` (or in the folder itself), sorted by name.
   */
  layout: { kind: 'file'; files: string[] } | { kind: 'csv-folder'; subfolder: string; suffix: string };
  parse: Parser;
}

export const BENCHMARK_SOURCES: Readonly<Record<ExternalBenchmarkId, BenchmarkSource>> = {
  gsm8k: { folder: 'gsm8k', layout: { kind: 'file', files: ['test.jsonl'] }, parse: parseGsm8k },
  svamp: { folder: 'svamp', layout: { kind: 'file', files: ['SVAMP.json'] }, parse: parseSvamp },
  multiarith: { folder: 'multiarith', layout: { kind: 'file', files: ['MultiArith.json'] }, parse: parseMultiArith },
  math500: { folder: 'math500', layout: { kind: 'file', files: ['test.jsonl'] }, parse: parseMath500 },
  aqua: { folder: 'aqua', layout: { kind: 'file', files: ['test.json', 'test.jsonl'] }, parse: parseAqua },
  mmlu: { folder: 'mmlu', layout: { kind: 'csv-folder', subfolder: 'test', suffix: '_test.csv' }, parse: parseMmluCsv },
  humaneval: {
    folder: 'humaneval',
    layout: { kind: 'file', files: ['HumanEval.jsonl', 'HumanEval.jsonl.gz'] },
    parse: parseHumanEval,
  },
  // the 500-item test split (task_id 11–510), see datasets/mbpp/SOURCE.md
  mbpp: { folder: 'mbpp', layout: { kind: 'file', files: ['mbpp_test.jsonl'] }, parse: parseMbpp },
};

export function isSampleBenchmark(id: BenchmarkId): id is SampleBenchmarkId {
  return id.startsWith('sample-');
}

export { formatIssue, type ParseIssue } from './common';
export { parseMmluCsv } from './choice';
export { parseMbpp } from './code';
export { parseGsm8k, parseSvamp } from './math-word';
