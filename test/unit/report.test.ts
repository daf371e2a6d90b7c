import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildReport, renderReport } from '../../activities/report';
import { openResultsStore, type RunRow } from '../../activities/results-store';
import { Rng } from '../../core/random';
import { parseCampaignSpec, runKeys, splitFingerprint } from '../../core/campaign/spec';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-report-'));
after(() => {
  if (!process.env.KEEP_REPORT) fs.rmSync(tmp, { recursive: true, force: true });
});

const METHODS = [
  'agentbalance',
  'single:gpt-4o-mini',
  'single:gpt-4o',
  'single:o4-mini',
  'chain',
  'star',
  'layered',
  'debate',
  'cot-sc',
  'gdesigner',
  'agentprune',
  'agentdropout',
  'cascade',
  'bamas',
  'plugin-gdesigner',
];

/** A synthetic campaign: accuracy rises with log budget, each method with its own offset. */
async function seedStore(file: string): Promise<string> {
  const spec = parseCampaignSpec({
    benchmark: 'gsm8k',
    seed: 'r1',
    methods: METHODS,
    costBudgets: { min: 1e-4, max: 3e-2, n: 5 },
    latencyBudgets: { min: 2, max: 60, n: 4 },
    simulation: { seed: 'sim-1' },
  });
  const tasks = Array.from({ length: 30 }, (_, i) => `gsm8k/${i}`);
  const store = await openResultsStore({ sqlitePath: file });
  const id = 'c-synthetic';
  await store.saveCampaign({
    id,
    spec,
    methods: METHODS,
    pool: { name: 'sim-14', simulated: true, priceTableVersion: '2025-06' },
    taskIds: tasks,
    splitFingerprint: splitFingerprint(tasks),
    codeVersion: 'deadbeef',
    createdAt: '2025-06-01T00:00:00Z',
    status: 'completed',
    artifacts: { designer: 'designer-v1' },
  });
  const rng = new Rng('report');
  const rows: RunRow[] = runKeys(spec, tasks).map((k) => {
    const mi = METHODS.indexOf(k.method);
    const grid = k.budgetKind === 'cost' ? spec.costBudgets : spec.latencyBudgets;
    const x = grid.indexOf(k.budget) / (grid.length - 1);
    const p = Math.min(0.97, 0.25 + 0.55 * x + (mi === 0 ? 0.12 : -0.02 * (mi % 5)));
    return {
      campaignId: id,
      runKeyId: k.runKeyId,
      method: k.method,
      budgetKind: k.budgetKind,
      budget: k.budget,
      taskId: k.taskId,
      correct: rng.next() < p,
      costUsd: k.budgetKind === 'cost' ? k.budget * rng.next() : 0.001,
      latencyS: k.budgetKind === 'latency' ? k.budget * rng.next() : 5,
      deadlineHit: false,
      budgetExhausted: false,
      simulated: true,
      agents: [],
      finishedAt: '2025-06-01T00:00:00Z',
    };
  });
  await store.upsertRuns(rows);
  await store.close();
  return id;
}

test('report from a synthetic store: markdown, json, svg and png charts', async () => {
  const file = path.join(tmp, 'results.sqlite');
  const id = await seedStore(file);
  const store = await openResultsStore({ sqlitePath: file });
  const report = await buildReport(store, id, { resamples: 500 });
  await assert.rejects(buildReport(store, 'nope'), /not in the results store/);
  await store.close();
  assert.equal(report.simulated, true);
  assert.equal(report.runs.stored, METHODS.length * 9 * 30);
  assert.equal(report.runs.complete, true);
  assert.equal(report.metrics.curves.length, METHODS.length * 2);
  const out = path.join(tmp, 'out');
  const t0 = performance.now();
  const r = await renderReport(report, out);
  const ms = performance.now() - t0;
  assert.ok(ms < 20_000, `rendering took ${ms} ms`);
  assert.equal(r.charts.length, 2);
  const md = fs.readFileSync(r.markdownPath, 'utf8');
  for (const needle of [
    '(simulated pool)',
    '**Simulated.**',
    'sim-14',
    'price table 2025-06',
    '`deadbeef`',
    `\`${splitFingerprint(Array.from({ length: 30 }, (_, i) => `gsm8k/${i}`))}\``,
    'campaign `r1`',
    'simulation `sim-1`',
    'Cost-AUC',
    'Latency-AUC',
    '`agentbalance`',
    'chart-gsm8k-cost.png',
  ]) {
    assert.ok(md.includes(needle), `markdown mentions ${needle}`);
  }
  const json = JSON.parse(fs.readFileSync(r.jsonPath, 'utf8')) as {
    simulated: boolean;
    meta: { codeVersion: string };
    metrics: { curves: unknown[] };
    curves: unknown[];
  };
  assert.equal(json.simulated, true);
  assert.equal(json.meta.codeVersion, 'deadbeef');
  assert.equal(json.metrics.curves.length, METHODS.length * 2);
  assert.deepEqual(json.curves, json.metrics.curves);
  for (const c of r.charts) {
    const svg = fs.readFileSync(c.svg, 'utf8');
    assert.match(svg, /^<svg/);
    for (const m of METHODS) assert.ok(svg.includes(m), `${c.budgetKind} chart names ${m}`);
    assert.ok(svg.includes('simulated pool'));
    const png = fs.readFileSync(c.png);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    assert.ok(width >= 1000 && width <= 4000 && height >= 600 && height <= 3000, `PNG is ${width}×${height}`);
    assert.ok(png.length > 20_000, 'PNG has content');
  }
});
