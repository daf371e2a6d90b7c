/**
 * Deterministic profile/train/test splits. Each id is placed by a seeded hash of the id alone, so
 * adding or removing items never moves the others (unlike shuffling a list). Pure: no node:crypto,
 * so workflows can use it too.
 */
import { z } from 'zod';
import { hash32 } from './random';

/** A uniform number in [0, 1) from the seed and the id. */
export function unitHash(seed: string, id: string): number {
  // 53 bits from two independent 32-bit hashes
  const hi = hash32(`${seed}\u0000${id}`, 0x9e3779b9) >>> 11; // 21 bits
  const lo = hash32(`${seed}\u0000${id}`, 0x7f4a7c15); // 32 bits
  return (hi * 2 ** 32 + lo) / 2 ** 53;
}

const SplitFractionsSchema = z
  .object({
    profile: z.number().min(0).max(1),
    train: z.number().min(0).max(1),
  })
  .strict()
  .refine((f) => f.profile + f.train <= 1 + 1e-12, { message: 'profile + train must not exceed 1' });
export type SplitFractions = z.infer<typeof SplitFractionsSchema>;

/** The product's split of every benchmark: 20 % profiling, 30 % designer training, 50 % test. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { profile: 0.2, train: 0.3 };

export interface Split {
  profile: string[];
  train: string[];
  test: string[];
}

/**
 * Splits ids into profile / train / test (the rest) by a seeded hash. Ids keep their input order
 * within each part; duplicates are dropped.
 */
export function splitIds(taskIds: readonly string[], seed: string, fractions: SplitFractions): Split {
  const f = SplitFractionsSchema.parse(fractions);
  const out: Split = { profile: [], train: [], test: [] };
  const seen = new Set<string>();
  for (const id of taskIds) {
    if (seen.has(id)) continue;
    seen.add(id);
    const u = unitHash(seed, id);
    if (u < f.profile) out.profile.push(id);
    else if (u < f.profile + f.train) out.train.push(id);
    else out.test.push(id);
  }
  return out;
}
