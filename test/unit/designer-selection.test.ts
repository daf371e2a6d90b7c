import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { profileFromPoolFile } from '../../core/profiling/pool-profile';
import {
  backboneMetrics,
  difficultyBand,
  kMedoids,
  paretoFront,
  selectPool,
  type BackboneMetrics,
} from '../../core/designer/selection';
import { smallPool } from './designer-fixtures';

const metricsArb = fc.array(
  fc.record({
    accuracy: fc.double({ min: 0, max: 1, noNaN: true }),
    costUsd: fc.double({ min: 1e-6, max: 1, noNaN: true }),
    latencyS: fc.double({ min: 0.1, max: 100, noNaN: true }),
  }),
  { minLength: 1, maxLength: 12 },
);

test('Pareto front = exactly the non-dominated backbones', () => {
  fc.assert(
    fc.property(metricsArb, (raw) => {
      const ms: BackboneMetrics[] = raw.map((m, i) => ({ id: `b${i}`, ...m }));
      const front = new Set(paretoFront(ms).map((m) => m.id));
      for (const m of ms) {
        const dominated = ms.some(
          (o) =>
            o !== m &&
            o.accuracy >= m.accuracy &&
            o.costUsd <= m.costUsd &&
            o.latencyS <= m.latencyS &&
            (o.accuracy > m.accuracy || o.costUsd < m.costUsd || o.latencyS < m.latencyS),
        );
        assert.equal(front.has(m.id), !dominated);
      }
      assert.ok(front.size >= 1);
    }),
    { numRuns: 300, seed: 3 },
  );
});

test('k-medoids is deterministic, returns k distinct points, one per separated cluster', () => {
  const pts = [
    [0, 0],
    [0.05, 0],
    [0, 0.05],
    [1, 1],
    [1.05, 1],
    [1, 0.95],
    [0, 1],
    [0.05, 1],
  ];
  const med = kMedoids(pts, 3);
  assert.deepEqual(med, kMedoids(pts, 3));
  assert.equal(new Set(med).size, 3);
  const cluster = (i: number): number => (i < 3 ? 0 : i < 6 ? 1 : 2);
  assert.deepEqual(new Set(med.map(cluster)), new Set([0, 1, 2]));
  assert.deepEqual(kMedoids(pts, 10), [...pts.keys()]);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), {
        minLength: 1,
        maxLength: 15,
      }),
      fc.integer({ min: 1, max: 6 }),
      (ps, k) => {
        const m = kMedoids(ps, k);
        assert.equal(m.length, Math.min(k, ps.length));
        assert.equal(new Set(m).size, m.length);
      },
    ),
    { numRuns: 100, seed: 4 },
  );
});

test('selectPool: chosen ⊆ front, includes the most accurate, cheapest and fastest', () => {
  const profile = profileFromPoolFile(smallPool());
  for (const difficulty of [-1, 0, 1]) {
    const sel = selectPool(profile, { domain: 'math', difficulty, k: 2, inputTokens: 120 });
    const front = sel.front.map((m) => m.id);
    assert.ok(sel.chosen.every((id) => front.includes(id)));
    const all = backboneMetrics(profile.backbones, 'math', difficulty, 120);
    const best = (cmp: (a: BackboneMetrics, b: BackboneMetrics) => number): string => [...all].sort(cmp)[0]!.id;
    assert.ok(sel.chosen.includes(best((a, b) => b.accuracy - a.accuracy)));
    assert.ok(sel.chosen.includes(best((a, b) => a.costUsd - b.costUsd)));
    assert.ok(sel.chosen.includes(best((a, b) => a.latencyS - b.latencyS)));
    assert.equal(sel.medoids.length, 2);
    assert.equal(sel.band, difficultyBand(difficulty));
  }
});
