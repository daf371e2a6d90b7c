/**
 * The methods a campaign compares (docs/METHOD.md §4): ids, parsing of method lists and the
 * planner dispatch. Every planner is pure: plan(ctx) → MethodPlan (a MasSpec, its role prompts and
 * a note; a cascade also carries its stages). Each module's header says what it reproduces and
 * where it differs from the original.
 */
import { validateSpec } from '../dag';
import type { Backbone } from '../pool';
import { planAgentdropout } from './agentdropout';
import { planAgentprune } from './agentprune';
import { planBamas } from './bamas';
import { planCascade } from './cascade';
import { planChain } from './chain';
import { planCotSc } from './cot-sc';
import { planDebate } from './debate';
import { planGdesigner } from './gdesigner';
import { planLayered } from './layered';
import { planPlugin } from './plugin';
export { planningSeedMethod } from './plugin';
import { planSingle } from './single';
import { planStar } from './star';
import type { MethodContext, MethodPlan, MethodPlanner } from './types';

export type { MethodContext, MethodPlan } from './types';

/** `single:<backboneId>`: one backbone alone; `single:*` in a method list means every backbone. */
export const SINGLE_PREFIX = 'single:';

/** Every method id except the parametrised `single:<backboneId>`. */
export const METHOD_IDS = [
  'agentbalance',
  'cot-sc',
  'chain',
  'star',
  'layered',
  'debate',
  'gdesigner',
  'agentprune',
  'agentdropout',
  'cascade',
  'bamas',
  'plugin-gdesigner',
  'plugin-agentprune',
  'plugin-agentdropout',
] as const;
type FixedMethodId = (typeof METHOD_IDS)[number];
export type MethodId = FixedMethodId | `single:${string}`;

/** Method-list keywords: `baselines` = every single backbone and every fixed id but agentbalance; `all` adds agentbalance. */
const METHOD_LIST_KEYWORDS = ['all', 'baselines'] as const;

const BACKBONE_ID = /^[a-z0-9][a-z0-9._-]*$/;

function isFixedMethodId(s: string): s is FixedMethodId {
  return (METHOD_IDS as readonly string[]).includes(s);
}

/** Syntactic check (the backbone of `single:<id>` is not checked against a pool). */
export function isMethodId(s: string): s is MethodId {
  return isFixedMethodId(s) || (s.startsWith(SINGLE_PREFIX) && BACKBONE_ID.test(s.slice(SINGLE_PREFIX.length)));
}

/** The id of `single` for one backbone. */
export function singleId(backboneId: string): MethodId {
  return `${SINGLE_PREFIX}${backboneId}`;
}

function validMethodsText(backbones?: readonly Pick<Backbone, 'id'>[]): string {
  const singles = backbones
    ? `single:<backbone> (${backbones.map((b) => b.id).join(', ')}), single:*`
    : 'single:<backbone>, single:*';
  return `${singles}, ${METHOD_IDS.join(', ')}, or the keywords ${METHOD_LIST_KEYWORDS.join(', ')}`;
}

/**
 * Parses a comma-separated method list (a string, or already split). `single:*` expands to every
 * backbone of the pool; duplicates are dropped (first occurrence kept). Unknown ids or backbones
 * throw an error that lists the valid ids.
 */
export function parseMethodList(text: string | readonly string[], backbones: readonly Pick<Backbone, 'id'>[]): MethodId[] {
  const items = (typeof text === 'string' ? text.split(',') : text.flatMap((t) => t.split(',')))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new Error(`empty method list; valid methods: ${validMethodsText(backbones)}`);
  const out: MethodId[] = [];
  const seen = new Set<string>();
  const push = (id: MethodId): void => {
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  const pool = new Set(backbones.map((b) => b.id));
  const bad: string[] = [];
  for (const item of items) {
    if (item === 'all' || item === 'baselines') {
      for (const b of backbones) push(singleId(b.id));
      for (const m of METHOD_IDS) if (m !== 'agentbalance' || item === 'all') push(m);
    } else if (item === `${SINGLE_PREFIX}*`) {
      for (const b of backbones) push(singleId(b.id));
    } else if (item.startsWith(SINGLE_PREFIX)) {
      const b = item.slice(SINGLE_PREFIX.length);
      if (pool.has(b)) push(singleId(b));
      else bad.push(`${item} (backbone "${b}" is not in the pool)`);
    } else if (isFixedMethodId(item)) {
      push(item);
    } else {
      bad.push(`"${item}"`);
    }
  }
  if (bad.length > 0)
    throw new Error(
      `unknown method${bad.length > 1 ? 's' : ''} ${bad.join(', ')}; valid methods: ${validMethodsText(backbones)}`,
    );
  return out;
}

const PLANNERS: Readonly<Record<Exclude<FixedMethodId, 'agentbalance'>, MethodPlanner>> = {
  'cot-sc': planCotSc,
  chain: planChain,
  star: planStar,
  layered: planLayered,
  debate: planDebate,
  gdesigner: planGdesigner,
  agentprune: planAgentprune,
  agentdropout: planAgentdropout,
  cascade: planCascade,
  bamas: planBamas,
  'plugin-gdesigner': (ctx) => planPlugin('gdesigner', ctx),
  'plugin-agentprune': (ctx) => planPlugin('agentprune', ctx),
  'plugin-agentdropout': (ctx) => planPlugin('agentdropout', ctx),
};

/**
 * Plans one query with method `id`. The result is checked with core/dag `validateSpec` against the
 * pool (every cascade stage too) and every role used has a prompt; a violation is a bug and throws.
 */
export function planMethod(id: string, ctx: MethodContext): MethodPlan {
  let plan: MethodPlan;
  if (id === 'agentbalance') {
    if (!ctx.designer)
      throw new Error('method "agentbalance" needs the trained designer: pass ctx.designer (activities/campaign.ts wires designerPlanner)');
    plan = ctx.designer(ctx);
  } else if (id.startsWith(SINGLE_PREFIX)) {
    plan = planSingle(id.slice(SINGLE_PREFIX.length), ctx);
  } else if (isFixedMethodId(id)) {
    plan = PLANNERS[id as Exclude<FixedMethodId, 'agentbalance'>](ctx);
  } else {
    throw new Error(`unknown method "${id}"; valid methods: ${validMethodsText(ctx.backbones)}`);
  }
  checkPlan(id, plan, ctx.backbones);
  return plan;
}

function checkPlan(id: string, plan: MethodPlan, backbones: readonly Pick<Backbone, 'id'>[]): void {
  const known = new Set(backbones.map((b) => b.id));
  for (const spec of [plan.spec, ...(plan.cascade?.stages ?? [])]) {
    validateSpec(spec, known);
    for (const a of spec.agents) {
      if (a.systemPrompt === undefined && plan.rolePrompts[a.role] === undefined)
        throw new Error(`${id}: agent "${a.id}" has role "${a.role}" without a prompt`);
    }
  }
  if (plan.cascade && plan.cascade.samples.length !== plan.cascade.stages.length)
    throw new Error(`${id}: cascade samples/stages length mismatch`);
}
