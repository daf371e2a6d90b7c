/**
 * Loading benchmark files from disk into Tasks. Parsing is pure (core/benchmarks); this module
 * finds the files, reads them (gunzips `.gz`) and applies the bad-record policy: by default any bad
 * record stops loading before work starts, with every `file:line: reason` listed; with `skipBad`
 * they are skipped and counted.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BenchmarkIdSchema, type BenchmarkId } from '../core/domain';
import {
  BENCHMARK_SOURCES,
  formatIssue,
  isSampleBenchmark,
  type BenchmarkSource,
  type ParseIssue,
} from '../core/benchmarks';
import { getBuiltinSample, type SampleOptions } from '../core/benchmarks/builtin';
import { DEFAULT_SPLIT_FRACTIONS, splitIds } from '../core/splits';
import type { Task } from '../core/task';
import { PROJECT_ROOT } from '../infra/paths';

/** Where the shared benchmark data lives by default: `<root>/../shared/datasets`. */
export const DEFAULT_DATASETS_DIR = path.resolve(PROJECT_ROOT, '../shared/datasets');

/** A clear, stack-free error for bad input data or a missing dataset. */
export class DatasetError extends Error {
  constructor(
    message: string,
    readonly issues: readonly ParseIssue[] = [],
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

export interface LoadOptions {
  /** Skip bad records (counted in `skipped`) instead of failing. */
  skipBad?: boolean;
  /** For the built-in samples. */
  sample?: SampleOptions;
}

export interface LoadResult {
  tasks: Task[];
  /** Bad records skipped (only with `skipBad`). */
  skipped: number;
  /** What was read: the files, or `builtin:<id>`. */
  sources: string[];
  /** The skipped records' `file:line: reason` lines (only with `skipBad`). */
  skippedReasons: string[];
}

const MAX_LISTED = 25;

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

async function readText(file: string): Promise<string> {
  const buf = await fs.readFile(file);
  return (file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

/** The files to parse for `src` given a user path (a file or a folder). */
async function resolveFiles(id: BenchmarkId, src: BenchmarkSource, given: string): Promise<string[]> {
  const st = await statOrNull(given);
  if (!st) throw new DatasetError(`${id}: ${given} does not exist`);
  if (st.isFile()) return [given];
  if (!st.isDirectory()) throw new DatasetError(`${id}: ${given} is neither a file nor a folder`);
  // The datasets root (holding `<folder>/` per benchmark) works as well as the benchmark's folder.
  const own = path.join(given, src.folder);
  if (path.basename(given) !== src.folder && (await statOrNull(own))?.isDirectory()) return resolveFiles(id, src, own);
  const layout = src.layout;
  if (layout.kind === 'file') {
    for (const f of layout.files) {
      const p = path.join(given, f);
      if ((await statOrNull(p))?.isFile()) return [p];
    }
    throw new DatasetError(`${id}: none of ${layout.files.join(', ')} found in ${given}`);
  }
  // csv-folder: `<given>/<subfolder>/*<suffix>`, or the folder itself when it holds the CSVs
  for (const dir of [path.join(given, layout.subfolder), given]) {
    if (!(await statOrNull(dir))?.isDirectory()) continue;
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith(layout.suffix)).sort();
    if (names.length > 0) return names.map((n) => path.join(dir, n));
  }
  throw new DatasetError(`${id}: no *${layout.suffix} files in ${path.join(given, layout.subfolder)} or ${given}`);
}

/** The default location of a benchmark's data, or null when it is not there. */
async function defaultDatasetPath(id: BenchmarkId): Promise<string | null> {
  if (isSampleBenchmark(id)) return null;
  const p = path.join(DEFAULT_DATASETS_DIR, BENCHMARK_SOURCES[id].folder);
  return (await statOrNull(p))?.isDirectory() ? p : null;
}

/**
 * Loads a benchmark's tasks. `pathOrDefault`: a data file or folder; absent → the shared datasets
 * folder. Built-in samples (`sample-*`) need no files.
 */
export async function loadBenchmark(id: BenchmarkId, pathOrDefault?: string, options: LoadOptions = {}): Promise<LoadResult> {
  const parsedId = BenchmarkIdSchema.safeParse(id);
  if (!parsedId.success) {
    throw new DatasetError(`unknown benchmark ${JSON.stringify(id)}; known: ${BenchmarkIdSchema.options.join(', ')}`);
  }
  if (isSampleBenchmark(id)) {
    return { tasks: getBuiltinSample(id, options.sample), skipped: 0, sources: [`builtin:${id}`], skippedReasons: [] };
  }
  const src = BENCHMARK_SOURCES[id];
  let base = pathOrDefault;
  if (base === undefined || base === '') {
    const def = await defaultDatasetPath(id);
    if (!def) {
      throw new DatasetError(
        `${id}: no dataset path given and the default ${path.join(DEFAULT_DATASETS_DIR, src.folder)} does not exist; pass the data file or folder`,
      );
    }
    base = def;
  }
  const files = await resolveFiles(id, src, path.resolve(base));

  const tasks: Task[] = [];
  const issues: ParseIssue[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readText(file);
    } catch (e) {
      throw new DatasetError(`${id}: cannot read ${file}: ${(e as Error).message}`);
    }
    const out = src.parse(text, file);
    tasks.push(...out.tasks);
    issues.push(...out.issues);
  }
  // ids must be unique across files too (MMLU has one file per subject)
  const seen = new Set<string>();
  const unique = tasks.filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)));
  if (unique.length !== tasks.length) {
    throw new DatasetError(`${id}: ${tasks.length - unique.length} duplicate task ids across files`);
  }

  const reasons = issues.map(formatIssue);
  if (issues.length > 0 && !options.skipBad) {
    const listed = reasons.slice(0, MAX_LISTED).map((r) => `  ${r}`);
    const more = reasons.length > MAX_LISTED ? [`  … and ${reasons.length - MAX_LISTED} more`] : [];
    // The first line stands alone (the CLI prints only it): the count and the first file:line.
    throw new DatasetError(
      [`${id}: ${issues.length} bad record(s), first ${reasons[0]}; fix them or skip them with --skip-bad-records`, ...listed, ...more].join('\n'),
      issues,
    );
  }
  if (unique.length === 0) throw new DatasetError(`${id}: no tasks in ${files.join(', ')}`);
  return { tasks: unique, skipped: issues.length, sources: files, skippedReasons: options.skipBad ? reasons : [] };
}

export interface BenchmarkSplits {
  /** Every task, in dataset order. */
  all: Task[];
  /** The product's profile / train / test splits (core/splits DEFAULT_SPLIT_FRACTIONS), each in dataset order. */
  profile: Task[];
  train: Task[];
  test: Task[];
}

/** Loads a benchmark and splits it deterministically by `seed` (profiling, designer training, test). */
export async function loadSplits(
  id: BenchmarkId,
  pathOrDefault: string | undefined,
  seed: string,
  options: Pick<LoadOptions, 'skipBad'> = {},
): Promise<BenchmarkSplits> {
  const { tasks } = await loadBenchmark(id, pathOrDefault, options);
  const split = splitIds(
    tasks.map((t) => t.id),
    seed,
    DEFAULT_SPLIT_FRACTIONS,
  );
  const pick = (ids: readonly string[]): Task[] => {
    const set = new Set(ids);
    return tasks.filter((t) => set.has(t.id));
  };
  return { all: tasks, profile: pick(split.profile), train: pick(split.train), test: pick(split.test) };
}
