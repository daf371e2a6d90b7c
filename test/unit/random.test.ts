import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hash32, lognormalWithMean, Rng, rngFor } from '../../core/random';

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.next());

describe('hash32', () => {
  it('is a deterministic unsigned 32-bit hash; the seed gives independent hashes', () => {
    assert.equal(hash32('abc'), hash32('abc'));
    assert.equal(hash32('abc'), hash32('abc', 0));
    assert.notEqual(hash32('abc'), hash32('abd'));
    assert.notEqual(hash32('abc', 1), hash32('abc', 2));
    for (const s of ['', 'a', 'gsm8k/17', 'ünïcode ✓']) {
      const h = hash32(s, 0xdeadbeef);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, `${s}: ${h}`);
    }
    // Uniform top bit and low bits over many short keys (the embedder's sign and bucket).
    const hs = Array.from({ length: 8000 }, (_, i) => hash32(`w:${i}`));
    const top = hs.filter((h) => h >>> 31).length / hs.length;
    assert.ok(Math.abs(top - 0.5) < 0.03, `top bit ${top}`);
    const buckets = new Array<number>(16).fill(0);
    for (const h of hs) buckets[h % 16]!++;
    assert.ok(buckets.every((c) => Math.abs(c - 500) < 100), `buckets ${buckets.join(',')}`);
  });
});

describe('Rng', () => {
  it('is deterministic per seed, and different seeds differ', () => {
    assert.deepEqual(draws(new Rng('s'), 50), draws(new Rng('s'), 50));
    assert.deepEqual(draws(new Rng(7), 10), draws(new Rng('7'), 10));
    assert.notDeepEqual(draws(new Rng('s'), 50), draws(new Rng('t'), 50));
    assert.notDeepEqual(draws(new Rng(''), 50), draws(new Rng(' '), 50));
    assert.deepEqual(draws(rngFor('a', 1), 10), draws(rngFor('a', '1'), 10));
    assert.notDeepEqual(draws(rngFor('a', 1), 10), draws(rngFor('a', 2), 10));
  });

  it('joins rngFor key parts unambiguously', () => {
    assert.notDeepEqual(draws(rngFor('a|b', 'c'), 10), draws(rngFor('a', 'b|c'), 10));
    assert.notDeepEqual(draws(rngFor('ab', 'c'), 10), draws(rngFor('a', 'bc'), 10));
    assert.notDeepEqual(draws(rngFor('a', ''), 10), draws(rngFor('a'), 10));
    assert.notDeepEqual(draws(rngFor('1:a'), 10), draws(rngFor('a'), 10));
  });

  it('draws next() uniformly in [0, 1)', () => {
    const xs = draws(new Rng('uniform'), 20_000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
    const deciles = new Array<number>(10).fill(0);
    for (const x of xs) deciles[Math.floor(x * 10)]!++;
    assert.ok(deciles.every((c) => Math.abs(c - 2000) < 200), `deciles ${deciles.join(',')}`);
  });

  it('keeps int(n) in [0, n) and intBetween(lo, hi) in [lo, hi], hitting every value', () => {
    const rng = new Rng('ints');
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const k = rng.int(7);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7, String(k));
      seen.add(k);
    }
    assert.equal(seen.size, 7);
    const between = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const k = rng.intBetween(-3, 4);
      assert.ok(Number.isInteger(k) && k >= -3 && k <= 4, String(k));
      between.add(k);
    }
    assert.deepEqual([...between].sort((a, b) => a - b), [-3, -2, -1, 0, 1, 2, 3, 4]);
    assert.equal(rng.intBetween(5, 5), 5);
    assert.throws(() => rng.intBetween(3, 2), /empty range/);
  });

  it('draws normal() with mean ≈ 0 and sd ≈ 1 over 20k draws', () => {
    const rng = new Rng('normal');
    const xs = Array.from({ length: 20_000 }, () => rng.normal());
    assert.ok(xs.every(Number.isFinite));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(sd - 1) < 0.03, `sd ${sd}`);
    const within1 = xs.filter((x) => Math.abs(x) < 1).length / xs.length;
    assert.ok(Math.abs(within1 - 0.6827) < 0.015, `P(|z| < 1) ${within1}`);
  });

  it('shuffles to a permutation without touching the input, and picks from the list', () => {
    const rng = new Rng('shuffle');
    const items = Array.from({ length: 20 }, (_, i) => i);
    const copy = [...items];
    const out = rng.shuffle(items);
    assert.deepEqual(items, copy);
    assert.deepEqual([...out].sort((a, b) => a - b), items);
    assert.notDeepEqual(out, items);
    assert.deepEqual(rng.shuffle([]), []);
    const firsts = new Set(Array.from({ length: 400 }, () => rng.shuffle(['a', 'b', 'c', 'd'])[0]));
    assert.equal(firsts.size, 4);
    const picked = new Set(Array.from({ length: 400 }, () => rng.pick(['x', 'y', 'z'])));
    assert.deepEqual([...picked].sort(), ['x', 'y', 'z']);
    assert.throws(() => rng.pick([]), /empty list/);
  });

  it('draws logUniform in [lo, hi], bernoulli at rate p, and lognormals with the given mean', () => {
    const rng = new Rng('misc');
    const ls = Array.from({ length: 5000 }, () => rng.logUniform(0.01, 100));
    assert.ok(ls.every((x) => x >= 0.01 && x <= 100));
    const belowOne = ls.filter((x) => x < 1).length / ls.length;
    assert.ok(Math.abs(belowOne - 0.5) < 0.03, `below 1: ${belowOne}`);
    const hits = Array.from({ length: 10_000 }, () => rng.bernoulli(0.3)).filter(Boolean).length;
    assert.ok(Math.abs(hits / 10_000 - 0.3) < 0.015, `bernoulli ${hits}`);
    assert.equal(rng.bernoulli(0), false);
    const logs = Array.from({ length: 20_000 }, () => lognormalWithMean(rng, 5, 0.4));
    const mean = logs.reduce((s, x) => s + x, 0) / logs.length;
    assert.ok(logs.every((x) => x > 0));
    assert.ok(Math.abs(mean / 5 - 1) < 0.02, `lognormal mean ${mean}`);
  });
});
