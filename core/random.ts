/**
 * The one home of seeded randomness and non-cryptographic string hashing in core (which must never
 * use Math.random). Pure, no node:crypto, so workflows can use it too. For SHA-256 digests and
 * canonical JSON see core/designer/hash.ts (a different concept: content addressing).
 *
 * - `hash32(text, seed?)`: 32-bit FNV-1a over UTF-16 code units with a murmur3 finaliser. It is the
 *   hash the profile/train/test splits were first built on, kept bit-for-bit so that a split never
 *   moves (a designer trained on one train split must not be evaluated on a test split drawn with
 *   another hash). The finaliser gives good avalanche for short keys; `seed` gives independent hashes
 *   of the same text.
 * - `Rng`: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), chosen over mulberry32 for
 *   its 128-bit state: it passes PractRand and BigCrush, has no short cycles (the counter word
 *   guarantees a period of at least 2^32, 2^127 on average), and its four state words are seeded
 *   from four independently seeded hashes of the key, so two keys share a stream with probability
 *   about 2^-128 rather than the 2^-32 of a 32-bit state (the simulator opens one stream per call,
 *   hundreds of thousands per campaign). Speed is on par with mulberry32.
 * - `rngFor(...keyParts)`: a generator for a structured key, the parts joined unambiguously.
 */

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit string hash (for keys, buckets and seeds; not for security). Different seeds give independent hashes. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** Seeds of the four sfc32 state words (arbitrary distinct odd constants). */
const STATE_SEEDS = [0x243f6a89, 0x85a308d3, 0x13198a2f, 0x03707345] as const;
/** sfc32's first outputs are correlated with its seed: discard this many. */
const WARM_UP = 12;

/** A seeded generator (sfc32). The same seed always yields the same sequence. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /** A number seed is the same as its decimal string (`new Rng(7)` ≡ `new Rng('7')`). */
  constructor(seed: string | number) {
    const key = String(seed);
    this.a = hash32(key, STATE_SEEDS[0]);
    this.b = hash32(key, STATE_SEEDS[1]);
    this.c = hash32(key, STATE_SEEDS[2]);
    this.d = hash32(key, STATE_SEEDS[3]);
    for (let i = 0; i < WARM_UP; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [0, n) (n a positive integer). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi], both ends included. */
  intBetween(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`intBetween: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** A uniformly random permutation (Fisher–Yates) as a new array; the input is left as is. */
  shuffle<T>(items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i] as T;
      a[i] = a[j] as T;
      a[j] = t;
    }
    return a;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    const u = 1 - this.next(); // (0, 1]: the log is finite
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Log-uniform in [lo, hi] (0 < lo ≤ hi). */
  logUniform(lo: number, hi: number): number {
    return Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo)));
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * A generator for a structured key. Each part is length-prefixed, so the join is unambiguous
 * (`rngFor('a|b', 'c')` and `rngFor('a', 'b|c')` differ); a number part is its decimal string.
 */
export function rngFor(...keyParts: readonly (string | number)[]): Rng {
  return new Rng(
    keyParts
      .map((p) => {
        const s = String(p);
        return `${s.length}:${s}`;
      })
      .join(''),
  );
}

/** Lognormal draw with the given mean (not median) and log-sd `s`. */
export function lognormalWithMean(rng: Rng, mean: number, s: number): number {
  return mean * Math.exp(s * rng.normal() - (s * s) / 2);
}
