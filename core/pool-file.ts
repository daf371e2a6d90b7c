import { parseDocument } from 'yaml';
import { z } from 'zod';
import { BackboneSchema, type Backbone } from './pool';
import sim14 from './sim/sim-14.json';

/**
 * The versioned pool-file format (YAML or JSON): a named set of backbones with prices, latency
 * models, profiles and cited benchmark accuracies, plus the sources those figures come from.
 */

export const POOL_FILE_VERSION = 1;

const PoolSourceSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    url: z.string().url(),
  })
  .strict();

const PoolFileSchema = z
  .object({
    version: z.literal(POOL_FILE_VERSION, {
      error: `unsupported pool-file version (this build reads version ${POOL_FILE_VERSION})`,
    }),
    name: z.string().min(1),
    /** True when every backbone is simulated: every report from the pool must then say so. */
    simulated: z.boolean(),
    /** Date or tag of the price list the prices were copied from, e.g. `2025-06`. */
    priceTableVersion: z.string().min(1),
    description: z.string().optional(),
    notes: z.array(z.string()).default([]),
    sources: z.array(PoolSourceSchema).default([]),
    // Strict here (not in BackboneSchema, which also parses workflow inputs): a typo in a
    // hand-written file must fail loudly instead of silently dropping an optional field.
    backbones: z.array(BackboneSchema.strict()).min(1),
  })
  .strict()
  .superRefine((pool, ctx) => {
    const sourceIds = new Set<string>();
    pool.sources.forEach((s, i) => {
      if (sourceIds.has(s.id))
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'id'], message: `duplicate source id "${s.id}"` });
      sourceIds.add(s.id);
    });
    const ids = new Set<string>();
    pool.backbones.forEach((b, i) => {
      if (ids.has(b.id))
        ctx.addIssue({ code: 'custom', path: ['backbones', i, 'id'], message: `duplicate backbone id "${b.id}"` });
      ids.add(b.id);
      const isSim = b.provider === 'simulated';
      if (pool.simulated !== isSim) {
        ctx.addIssue({
          code: 'custom',
          path: ['backbones', i, 'provider'],
          message: pool.simulated
            ? `a pool marked simulated: true may only hold provider "simulated" backbones`
            : `provider "simulated" in a pool marked simulated: false (set simulated: true)`,
        });
      }
      (b.sources ?? []).forEach((key, j) => {
        if (!sourceIds.has(key))
          ctx.addIssue({
            code: 'custom',
            path: ['backbones', i, 'sources', j],
            message: `unknown source "${key}" (not in sources)`,
          });
      });
      for (const [bench, score] of Object.entries(b.citedAccuracy ?? {})) {
        if (score?.source !== undefined && !sourceIds.has(score.source)) {
          ctx.addIssue({
            code: 'custom',
            path: ['backbones', i, 'citedAccuracy', bench, 'source'],
            message: `unknown source "${score.source}" (not in sources)`,
          });
        }
      }
    });
  });
export type PoolFile = z.infer<typeof PoolFileSchema>;

export interface PoolFileIssue {
  /** Field path such as `backbones[2].latency.ttftS`, or a line/column for syntax errors. */
  path: string;
  reason: string;
}

/** A pool file that does not parse or validate; the message names the file, each field and why. */
export class PoolFileError extends Error {
  override readonly name = 'PoolFileError';
  constructor(
    readonly file: string,
    readonly issues: readonly PoolFileIssue[],
  ) {
    super(issues.map((i) => `${file}: ${i.path}: ${i.reason}`).join('\n'));
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** The id of the backbone an issue sits in, so errors in a long file are easy to find. */
function backboneIdAt(data: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'backbones' || typeof path[1] !== 'number') return undefined;
  const id = valueAt(data, [...path.slice(0, 2), 'id']);
  return typeof id === 'string' && path.length > 2 ? id : undefined;
}

function describeIssues(data: unknown, issue: z.core.$ZodIssue): PoolFileIssue[] {
  // One line per unknown key, with the key in the path, reads better than zod's grouped message.
  const located: { path: readonly PropertyKey[]; reason: string }[] =
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ path: [...issue.path, k], reason: 'unknown field' }))
      : [
          {
            path: issue.path,
            reason:
              issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(data, issue.path) === undefined
                ? `required field is missing (expected ${issue.expected})`
                : issue.message,
          },
        ];
  return located.map(({ path, reason }) => {
    const id = backboneIdAt(data, path);
    return { path: formatPath(path), reason: id ? `${reason} (backbone "${id}")` : reason };
  });
}

/** Validates already-parsed data as a pool file. */
export function parsePoolData(data: unknown, fileName: string): PoolFile {
  const res = PoolFileSchema.safeParse(data);
  if (res.success) return res.data;
  throw new PoolFileError(
    fileName,
    res.error.issues.flatMap((issue) => describeIssues(data, issue)),
  );
}

/** Parses pool-file text: JSON when the name ends in `.json`, YAML otherwise. */
export function parsePoolFile(text: string, fileName: string): PoolFile {
  if (/\.json$/i.test(fileName)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new PoolFileError(fileName, [{ path: '(document)', reason: `invalid JSON: ${(err as Error).message}` }]);
    }
    return parsePoolData(data, fileName);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new PoolFileError(
      fileName,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        // The position goes in the path; the message's own " at line …" suffix and excerpt are dropped.
        const reason = (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '');
        return { path: pos ? `line ${pos.line}, column ${pos.col}` : '(document)', reason: `invalid YAML: ${reason}` };
      }),
    );
  }
  return parsePoolData(doc.toJS(), fileName);
}

/** Pools that ship with the product (no file system needed). */
export const BUILTIN_POOLS: Readonly<Record<string, PoolFile>> = {
  'sim-14': parsePoolData(sim14, 'sim-14.json (built-in)'),
};

export const DEFAULT_POOL = 'sim-14';

export function findBackbone(pool: PoolFile, id: string): Backbone | undefined {
  return pool.backbones.find((b) => b.id === id);
}
