import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { DatasetError, loadBenchmark } from '../../activities/datasets';
import { parseGsm8k, parseMbpp, parseMmluCsv, parseSvamp } from '../../core/benchmarks';
import { readJsonArray } from '../../core/benchmarks/common';
import { parseCsv } from '../../core/benchmarks/csv';
import type { BenchmarkId } from '../../core/domain';
import { TaskSchema } from '../../core/task';

const DATASETS = path.resolve(__dirname, '../../../shared/datasets');
const haveData = existsSync(DATASETS);
const skipReal = haveData ? false : `shared datasets not found at ${DATASETS}; real-file tests skipped`;

const EXPECTED: [BenchmarkId, number][] = [
  ['gsm8k', 1319],
  ['mmlu', 14042],
  ['humaneval', 164],
  ['math500', 500],
  ['mbpp', 500],
  ['svamp', 1000],
  ['aqua', 254],
  ['multiarith', 600],
];

describe('loaders on the real shared datasets', { skip: skipReal }, () => {
  for (const [id, count] of EXPECTED) {
    it(`${id}: ${count} valid tasks with unique ids`, async () => {
      const { tasks, skipped } = await loadBenchmark(id, path.join(DATASETS, id));
      assert.equal(tasks.length, count);
      assert.equal(skipped, 0);
      assert.equal(new Set(tasks.map((t) => t.id)).size, count);
      for (const t of tasks) {
        assert.ok(t.id.startsWith(`${id}/`), t.id);
        assert.equal(t.benchmark, id);
      }
      // schema check on a spread of items (all of them for the small sets)
      const step = Math.max(1, Math.floor(count / 200));
      for (let i = 0; i < count; i += step) TaskSchema.parse(tasks[i]);
    });
  }

  it('reads the gzipped HumanEval file when given it', async () => {
    const { tasks } = await loadBenchmark('humaneval', path.join(DATASETS, 'humaneval', 'HumanEval.jsonl.gz'));
    assert.equal(tasks.length, 164);
  });

  it('uses the default folder when no path is given', async () => {
    const { tasks } = await loadBenchmark('gsm8k');
    assert.equal(tasks.length, 1319);
  });

  it('formats records as documented', async () => {
    const gsm = (await loadBenchmark('gsm8k')).tasks[0];
    assert.deepEqual(gsm?.answer, { kind: 'numeric', value: '18' });
    const gsmBig = (await loadBenchmark('gsm8k')).tasks.find((t) => t.answer.kind === 'numeric' && t.answer.value === '1450000');
    assert.ok(gsmBig, 'thousands separators are removed from gold answers');

    const mmlu = (await loadBenchmark('mmlu')).tasks.find((t) => t.id === 'mmlu/abstract_algebra/0');
    assert.ok(mmlu);
    assert.match(mmlu.question, /\n\(A\) 0\n\(B\) 4\n\(C\) 2\n\(D\) 6$/);
    assert.deepEqual(mmlu.answer, { kind: 'choice', letter: 'B', options: ['0', '4', '2', '6'] });

    const aqua = (await loadBenchmark('aqua')).tasks[1];
    assert.deepEqual(aqua?.answer.kind === 'choice' && aqua.answer.options, ['$61', '$65', '$67.40', '$70', '$78.20']);
    assert.match(aqua?.question ?? '', /\(E\) \$78\.20$/);

    const he = (await loadBenchmark('humaneval')).tasks[0];
    assert.equal(he?.id, 'humaneval/0');
    assert.ok(he?.answer.kind === 'code');
    if (he?.answer.kind === 'code') {
      assert.equal(he.answer.entryPoint, 'has_close_elements');
      assert.ok(he.answer.prelude.startsWith('from typing import List'));
      assert.match(he.answer.tests, /check\(has_close_elements\)\s*$/);
    }

    const mbpp = (await loadBenchmark('mbpp')).tasks[0];
    assert.equal(mbpp?.id, 'mbpp/11');
    if (mbpp?.answer.kind === 'code') {
      assert.equal(mbpp.answer.entryPoint, 'remove_Occ');
      assert.equal(mbpp.answer.prelude, '');
      assert.equal(mbpp.answer.tests.trim().split('\n').length, 3);
    }

    const svamp = (await loadBenchmark('svamp')).tasks[0];
    assert.equal(svamp?.id, 'svamp/chal-1');
    assert.deepEqual(svamp?.answer, { kind: 'numeric', value: '51' });

    const m5 = (await loadBenchmark('math500')).tasks[0];
    assert.deepEqual(m5?.answer, { kind: 'math', value: '\\left( 3, \\frac{\\pi}{2} \\right)' });
  });
});

describe('bad records', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ab-loaders-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const good = (q: string, a: string): string => JSON.stringify({ question: q, answer: `work\n#### ${a}` });

  it('stop loading with every file:line: reason listed', async () => {
    const file = path.join(dir, 'gsm.jsonl');
    writeFileSync(file, [good('q1', '1'), '{not json', good('q3', '3'), JSON.stringify({ question: 'q4' }), '', good('q6', '6'), JSON.stringify({ question: 'q7', answer: '#### none' })].join('\n'));
    await assert.rejects(loadBenchmark('gsm8k', file), (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, /3 bad record/);
      assert.match(e.message, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: invalid JSON`));
      assert.match(e.message, /gsm\.jsonl:4: answer: /);
      assert.match(e.message, /gsm\.jsonl:7: answer: no number after "####"/);
      assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace in the message');
      return true;
    });
  });

  it('are skipped and counted with skipBad; ids of good records do not shift', async () => {
    const file = path.join(dir, 'gsm2.jsonl');
    writeFileSync(file, [good('q1', '1'), '{not json', good('q3', '3,000')].join('\n'));
    const r = await loadBenchmark('gsm8k', file, { skipBad: true });
    assert.equal(r.skipped, 1);
    assert.deepEqual(r.tasks.map((t) => t.id), ['gsm8k/0', 'gsm8k/2']);
    assert.deepEqual(r.tasks[1]?.answer, { kind: 'numeric', value: '3000' });
    assert.match(r.skippedReasons[0] ?? '', /gsm2\.jsonl:2: invalid JSON/);
  });

  it('in a JSON array are reported at the element line', () => {
    const text = '[\n  {"ID": "a", "Body": "b", "Question": "q?", "Answer": 1.0},\n  {"ID": "b", "Body": "b",\n   "Question": "q?"},\n  {"ID": "c", "Body": "b", "Question": "q?", "Answer": 2.5}\n]\n';
    const out = parseSvamp(text, 'SVAMP.json');
    assert.deepEqual(out.tasks.map((t) => t.id), ['svamp/a', 'svamp/c']);
    assert.equal(out.issues.length, 1);
    assert.equal(out.issues[0]?.line, 3);
    assert.match(out.issues[0]?.reason ?? '', /^Answer: /);
    assert.equal(readJsonArray('[1, 2').at(-1)?.error, 'unterminated JSON array');
  });

  it('in MMLU CSV (quoted newlines, wrong columns, bad letter) keep their line numbers', async () => {
    const csv = '"What is\n2+2?",3,4,5,6,B\nbroken,row\n"Q3",a,b,c,d,Z\n"Q4 ""quoted""",a,b,c,d,D\n';
    const out = parseMmluCsv(csv, 'test/toy_test.csv');
    assert.deepEqual(out.tasks.map((t) => t.id), ['mmlu/toy/0', 'mmlu/toy/3']);
    assert.deepEqual(out.issues.map((i) => i.line), [3, 4]);
    assert.match(out.tasks[1]?.question ?? '', /^Q4 "quoted"/);
    assert.equal(parseCsv('a,"b\nc').error?.line, 1);

    const folder = path.join(dir, 'mmlu');
    mkdirSync(path.join(folder, 'test'), { recursive: true });
    writeFileSync(path.join(folder, 'test', 'toy_test.csv'), csv);
    writeFileSync(path.join(folder, 'test', 'other_test.csv'), 'Q,a,b,c,d,A\n');
    await assert.rejects(loadBenchmark('mmlu', folder), /toy_test\.csv:3: expected 6 columns/);
    const r = await loadBenchmark('mmlu', folder, { skipBad: true });
    assert.equal(r.tasks.length, 3);
    assert.equal(r.skipped, 2);
  });

  it('MBPP records need an assert list', () => {
    const rec = { task_id: 11, text: 't', code: 'def f():\r\n    return 1', test_setup_code: '', test_list: ['assert f() == 1'] };
    const out = parseMbpp([JSON.stringify(rec), JSON.stringify({ ...rec, task_id: 12, test_list: [] }), JSON.stringify(rec)].join('\n'), 'm.jsonl');
    assert.equal(out.tasks.length, 1);
    assert.deepEqual(out.issues.map((i) => [i.line, i.reason.split(':')[0]]), [[2, 'test_list'], [3, 'duplicate task id mbpp/11']]);
    assert.equal(out.tasks[0]?.answer.kind === 'code' && out.tasks[0].answer.canonical, 'def f():\n    return 1');
  });

  it('clear errors for a missing path and an unknown benchmark', async () => {
    await assert.rejects(loadBenchmark('gsm8k', path.join(dir, 'nope')), /gsm8k: .*nope does not exist/);
    await assert.rejects(loadBenchmark('nope' as BenchmarkId), /unknown benchmark "nope"/);
    assert.equal(parseGsm8k('', 'empty.jsonl').tasks.length, 0);
  });

  it('built-in samples need no files', async () => {
    const r = await loadBenchmark('sample-mc', '/does/not/matter');
    assert.equal(r.tasks.length, 240);
    assert.deepEqual(r.sources, ['builtin:sample-mc']);
  });
});
