/**
 * Seeded randomness for the simulated pool: xmur3 hashes a string key into seeds for sfc32.
 * Everything the simulator draws comes from here (never Math.random), so a call is reproducible
 * from its key alone.
 */

/** xmur3: a string hash producing a stream of 32-bit seeds. */
function xmur3(str: string): () => number {
  let h = 1779033703 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

/** A 32-bit string hash (for keys, not security). */
export function hash32(str: string): number {
  return xmur3(str)();
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
}

/** An sfc32 generator seeded from the parts of a key (joined unambiguously). */
export function rngFor(...keyParts: readonly (string | number)[]): Rng {
  const seed = xmur3(keyParts.map(String).join('\u241f'));
  let a = seed();
  let b = seed();
  let c = seed();
  let d = seed();
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // Warm-up: the first outputs of sfc32 are correlated with the seed.
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    normal() {
      const u = 1 - next(); // (0, 1]: log is finite
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    int(n) {
      return Math.floor(next() * n);
    },
    pick(items) {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
  };
}

/** Lognormal draw with the given mean (not median) and log-sd `s`. */
export function lognormalWithMean(rng: Rng, mean: number, s: number): number {
  return mean * Math.exp(s * rng.normal() - (s * s) / 2);
}
