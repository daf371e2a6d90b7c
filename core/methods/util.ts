/**
 * Shared machinery of the baseline methods: the cost/latency predictor every method plans with,
 * homogeneous backbone choice ("the best affordable one"), role cycling, seeded jitter, text
 * embeddings for the topology-first methods, and a greedy per-agent backbone assignment with an
 * exact budget check (plug-in variants and BAMAS).
 *
 * Prediction model: the shared one of core/estimate.ts, the same for every baseline so none is
 * favoured and the same the designer plans with:
 *   n_in(v)  = tokens(system prompt of v) + tokens(question) + CALL_OVERHEAD
 *              + Σ_{u→v} (n_out(u) + MESSAGE_OVERHEAD)
 *   n_out(v) = mean output tokens of β(v) in the domain (estimate.ts `meanOutputTokens`)
 *   cost     = Σ_v n_in·p_in + n_out·p_out,  latency = critical path of ttft + n_in/prefill + n_out/decode
 *              (+ the orchestration hop of a real-time backbone).
 * tokens() is the context's `countTokens` (the tokenizer, where the caller injects it), else 1.3 per word.
 */
import { validateSpec } from '../dag';
import { HashedNgramEmbedder, type Embedder } from '../designer/embed';
import { Rng } from '../random';
import type { Domain } from '../domain';
import type { Budgets, MasAgent, MasSpec } from '../mas';
import {
  MESSAGE_OVERHEAD_TOKENS,
  agentInputTokens,
  callCostUsd,
  meanOutputTokens,
  predictCall,
  sigmoid,
  wordTokenEstimate,
  type AgentPrediction,
} from '../estimate';
import type { Backbone } from '../pool';
import type { MethodContext, PlanPrediction, RolePrompt } from './types';

/** Relative slack on budget checks: floating-point noise only. */
const FIT_EPS = 1e-12;

/** θ_{m,d}: the backbone's ability in the domain; else its mean over other domains; else 0. */
export function abilityOf(b: Backbone, domain: Domain): number {
  const ab = b.profile?.ability ?? {};
  const own = ab[domain];
  if (own !== undefined) return own;
  const vals = Object.values(ab).filter((v): v is number => typeof v === 'number');
  return vals.length ? vals.reduce((s, v) => s + v, 0) / vals.length : 0;
}

export function meanOutputTokensOf(b: Backbone, domain: Domain): number {
  return meanOutputTokens({ reasoning: b.reasoning, meanOutputTokens: b.profile?.meanOutputTokens }, domain);
}

/** b̂(q) used when weighing abilities: the context's, else the pool's mean ability in the domain. */
function difficultyOf(ctx: MethodContext): number {
  if (ctx.difficulty !== undefined) return ctx.difficulty;
  const d = ctx.task.domain;
  return ctx.backbones.reduce((s, b) => s + abilityOf(b, d), 0) / Math.max(1, ctx.backbones.length);
}

/** Predicted probability that backbone `b` answers the query right alone: σ(θ − b̂). */
export function successProbability(b: Backbone, ctx: MethodContext): number {
  return sigmoid(abilityOf(b, ctx.task.domain) - difficultyOf(ctx));
}

export interface SpecPrediction extends PlanPrediction {
  perAgent: Map<string, AgentPrediction>;
}

export function fitsBudgets(p: { costUsd: number; latencyS: number }, budgets: Budgets): boolean {
  if (budgets.maxCostUsd !== undefined && p.costUsd > budgets.maxCostUsd * (1 + FIT_EPS)) return false;
  if (budgets.maxLatencyS !== undefined && p.latencyS > budgets.maxLatencyS * (1 + FIT_EPS)) return false;
  return true;
}

/** How far a prediction is over its budgets: max of used/budget over the set budgets (0 without any). */
export function overrun(p: { costUsd: number; latencyS: number }, budgets: Budgets): number {
  let r = 0;
  if (budgets.maxCostUsd !== undefined) r = Math.max(r, p.costUsd / budgets.maxCostUsd);
  if (budgets.maxLatencyS !== undefined) r = Math.max(r, p.latencyS / budgets.maxLatencyS);
  return r;
}

/** Index of the pool by id (cached per backbone array). */
const poolIndexCache = new WeakMap<readonly Backbone[], Map<string, Backbone>>();
export function poolIndex(backbones: readonly Backbone[]): Map<string, Backbone> {
  let m = poolIndexCache.get(backbones);
  if (!m) {
    m = new Map(backbones.map((b) => [b.id, b]));
    poolIndexCache.set(backbones, m);
  }
  return m;
}

/**
 * A topology compiled for fast repeated prediction: agents in topological order, predecessor
 * indices and the fixed part of each agent's input tokens.
 */
export interface CompiledTopology {
  ids: string[];
  /** Index of the decision agent. */
  decision: number;
  /** Agent indices in a topological order. */
  order: number[];
  preds: number[][];
  /** tokens(system prompt) + tokens(question) + CALL_OVERHEAD per agent. */
  baseIn: number[];
}

function compileTopology(
  top: Pick<Topology, 'agents' | 'edges' | 'decision'>,
  rolePrompts: Readonly<Record<string, string>>,
  ctx: MethodContext,
): CompiledTopology {
  const spec: MasSpec = { agents: top.agents.map((a) => ({ ...a, backbone: '_' })), edges: top.edges, decision: top.decision };
  const index = validateSpec(spec);
  const ids = top.agents.map((a) => a.id);
  const pos = new Map(ids.map((id, i) => [id, i]));
  const count = ctx.countTokens ?? wordTokenEstimate;
  const qTokens = count(ctx.task.question);
  return {
    ids,
    decision: pos.get(top.decision)!,
    order: index.order.map((id) => pos.get(id)!),
    preds: ids.map((id) => index.preds.get(id)!.map((p) => pos.get(p)!)),
    baseIn: top.agents.map((a) => agentInputTokens(count(a.systemPrompt ?? rolePrompts[a.role] ?? ''), qTokens)),
  };
}

/** Predicted cost and latency of a compiled topology with backbone `assign[i]` for agent i. */
export function predictCompiled(
  c: CompiledTopology,
  assign: readonly Backbone[],
  domain: Domain,
): { costUsd: number; latencyS: number; perAgent: AgentPrediction[] } {
  const n = c.ids.length;
  const perAgent = new Array<AgentPrediction>(n);
  const finish = new Array<number>(n).fill(0);
  let costUsd = 0;
  let latencyS = 0;
  for (const v of c.order) {
    const b = assign[v]!;
    let nIn = c.baseIn[v]!;
    let start = 0;
    // The predecessors' terms of estimate.ts `agentInputTokens`, inline on this hot path.
    for (const u of c.preds[v]!) {
      nIn += perAgent[u]!.nOut + MESSAGE_OVERHEAD_TOKENS;
      if (finish[u]! > start) start = finish[u]!;
    }
    const nOut = meanOutputTokensOf(b, domain);
    const { costUsd: cost, latencyS: lat } = predictCall(b, nIn, nOut);
    perAgent[v] = { nIn, nOut, costUsd: cost, latencyS: lat, finishS: start + lat };
    finish[v] = start + lat;
    if (finish[v]! > latencyS) latencyS = finish[v]!;
    costUsd += cost;
  }
  return { costUsd, latencyS, perAgent };
}

/** Predicted cost and latency of a spec for the context's query (model in the header). */
export function predictSpec(spec: MasSpec, rolePrompts: Readonly<Record<string, string>>, ctx: MethodContext): SpecPrediction {
  const pool = poolIndex(ctx.backbones);
  validateSpec(spec, new Set(pool.keys()));
  const c = compileTopology(spec, rolePrompts, ctx);
  const r = predictCompiled(
    c,
    spec.agents.map((a) => pool.get(a.backbone)!),
    ctx.task.domain,
  );
  return {
    costUsd: r.costUsd,
    latencyS: r.latencyS,
    fits: fitsBudgets(r, ctx.budgets),
    perAgent: new Map(c.ids.map((id, i) => [id, r.perAgent[i]!])),
  };
}

/** A topology without backbones: agents get theirs from `assign`. */
export interface Topology {
  agents: Omit<MasAgent, 'backbone'>[];
  edges: [string, string][];
  decision: string;
}

export function assignAll(top: Topology, backboneId: string): MasSpec {
  return {
    agents: top.agents.map((a) => ({ ...a, backbone: backboneId })),
    edges: top.edges.map(([u, v]) => [u, v]),
    decision: top.decision,
  };
}

function assignEach(top: Topology, backboneOf: (agentId: string) => string): MasSpec {
  return {
    agents: top.agents.map((a) => ({ ...a, backbone: backboneOf(a.id) })),
    edges: top.edges.map(([u, v]) => [u, v]),
    decision: top.decision,
  };
}

export function topologyOf(spec: MasSpec): Topology {
  return {
    agents: spec.agents.map((a) => {
      const rest: Omit<MasAgent, 'backbone'> & { backbone?: string } = { ...a };
      delete rest.backbone;
      return rest;
    }),
    edges: spec.edges.map(([u, v]) => [u, v]),
    decision: spec.decision,
  };
}

/** Backbones by ability in the domain (desc), ties by single-call cost (asc), then id. */
function rankByAbility(ctx: MethodContext): Backbone[] {
  const d = ctx.task.domain;
  const unit = (b: Backbone): number => callCostUsd(b, 500, meanOutputTokensOf(b, d));
  return [...ctx.backbones].sort(
    (x, y) => abilityOf(y, d) - abilityOf(x, d) || unit(x) - unit(y) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
  );
}

export interface HomogeneousChoice {
  backbone: Backbone;
  spec: MasSpec;
  prediction: SpecPrediction;
  /** False when no backbone fits and the fallback (smallest overrun) was taken. */
  fits: boolean;
}

function toSpecPrediction(c: CompiledTopology, r: ReturnType<typeof predictCompiled>, budgets: Budgets): SpecPrediction {
  return {
    costUsd: r.costUsd,
    latencyS: r.latencyS,
    fits: fitsBudgets(r, budgets),
    perAgent: new Map(c.ids.map((id, i) => [id, r.perAgent[i]!])),
  };
}

/**
 * "The best affordable one": the highest-ability backbone (for the task's domain) whose predicted
 * cost and critical-path latency for this topology fit the budgets; if none fits, the one with the
 * smallest overrun (the cheapest under a cost budget, the fastest under a latency budget).
 */
export function chooseHomogeneous(
  top: Topology,
  rolePrompts: Readonly<Record<string, string>>,
  ctx: MethodContext,
): HomogeneousChoice {
  const c = compileTopology(top, rolePrompts, ctx);
  const n = top.agents.length;
  let fallback: { b: Backbone; r: ReturnType<typeof predictCompiled>; over: number } | undefined;
  for (const b of rankByAbility(ctx)) {
    const r = predictCompiled(c, new Array<Backbone>(n).fill(b), ctx.task.domain);
    if (fitsBudgets(r, ctx.budgets))
      return { backbone: b, spec: assignAll(top, b.id), prediction: toSpecPrediction(c, r, ctx.budgets), fits: true };
    const over = overrun(r, ctx.budgets);
    if (!fallback || over < fallback.over) fallback = { b, r, over };
  }
  if (!fallback) throw new Error('chooseHomogeneous: empty pool');
  return {
    backbone: fallback.b,
    spec: assignAll(top, fallback.b.id),
    prediction: toSpecPrediction(c, fallback.r, ctx.budgets),
    fits: false,
  };
}

/** Whether backbone `x` is at least as good as `y` in every respect that prediction uses, and better in one. */
function dominates(x: Backbone, y: Backbone, d: Domain): boolean {
  const ge = [
    abilityOf(x, d) - abilityOf(y, d),
    y.priceInPerMTok - x.priceInPerMTok,
    y.priceOutPerMTok - x.priceOutPerMTok,
    meanOutputTokensOf(y, d) - meanOutputTokensOf(x, d),
    y.latency.ttftS - x.latency.ttftS,
    x.latency.prefillTps - y.latency.prefillTps,
    x.latency.decodeTps - y.latency.decodeTps,
  ];
  return ge.every((g) => g >= 0) && ge.some((g) => g > 0);
}

/** Backbones no other backbone dominates (ability, prices, output length, latency model). */
function undominated(ctx: MethodContext): Backbone[] {
  const d = ctx.task.domain;
  return ctx.backbones.filter((y) => !ctx.backbones.some((x) => x !== y && dominates(x, y, d)));
}

/** `n` worker roles, cycling through the domain's roles (the decision role when there are none). */
export function workerRoles(ctx: MethodContext, n: number): RolePrompt[] {
  const src = ctx.roles.length > 0 ? ctx.roles : [ctx.decisionRole];
  return Array.from({ length: n }, (_, i) => src[i % src.length]!);
}

/** Prompts of every role the topology uses (overrides in `systemPrompt` do not need one, but get it anyway). */
export function rolePromptsFor(top: Pick<Topology, 'agents'>, ctx: MethodContext): Record<string, string> {
  const known = new Map<string, string>([...ctx.roles, ctx.decisionRole].map((r) => [r.id, r.prompt]));
  const out: Record<string, string> = {};
  for (const a of top.agents) {
    const p = known.get(a.role);
    if (p !== undefined) out[a.role] = p;
    else if (a.systemPrompt !== undefined) out[a.role] = a.systemPrompt;
    else throw new Error(`role "${a.role}" of agent "${a.id}" has no prompt in the method context`);
  }
  return out;
}

/** A seeded generator per (seed, method, task): plans are reproducible and differ across queries. */
export function methodRng(ctx: MethodContext, method: string): Rng {
  return new Rng(`${ctx.seed}|${method}|${ctx.task.id}`);
}

let sharedEmbedder: Embedder | undefined;
/** The designer's offline hashed n-gram embedder (64 dims, no IDF): deterministic, no network. */
function methodEmbedder(): Embedder {
  sharedEmbedder ??= new HashedNgramEmbedder({ dim: 64 });
  return sharedEmbedder;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/**
 * Role/query similarity scores for the topology-first methods:
 *   relevance ρ_v = cos(emb(role prompt v), emb(query)) + ε_v,
 *   edge score s_uv = ½(1 + cos(emb(role u) + emb(query), emb(role v) + emb(query))) + ε_uv,
 * with tiny seeded jitter ε (|ε| ≤ 1e-3) to break ties reproducibly.
 */
export function similarityScores(
  roles: readonly RolePrompt[],
  ctx: MethodContext,
  rng: Rng,
): { relevance: number[]; edge: number[][] } {
  const emb = methodEmbedder();
  const q = emb.embed(ctx.task.question);
  const er = roles.map((r) => emb.embed(r.prompt));
  const relevance = er.map((e) => cosine(e, q) + (rng.next() - 0.5) * 2e-3);
  const node = er.map((e) => e.map((x, i) => x + q[i]!));
  const edge = roles.map((_, u) =>
    roles.map((__, v) => (u === v ? 0 : 0.5 * (1 + cosine(node[u]!, node[v]!)) + (rng.next() - 0.5) * 2e-3)),
  );
  return { relevance, edge };
}

/** Sorted indices by descending score (stable). */
export function argsortDesc(xs: readonly number[]): number[] {
  return xs.map((_, i) => i).sort((a, b) => xs[b]! - xs[a]! || a - b);
}

export interface AssignmentOptions {
  /** Utility weight of a worker relative to the decision agent (1). */
  workerWeight?: number;
}

export interface GreedyAssignment {
  spec: MasSpec;
  prediction: SpecPrediction;
  /** Σ_v w_v·σ(θ_{β(v),d} − b̂). */
  utility: number;
  fits: boolean;
}

/**
 * Per-agent backbones for a fixed topology, greedily: start from the homogeneous assignment with the
 * smallest budget overrun (the cheapest), then repeatedly apply the single-agent backbone change with
 * the highest utility gain per unit of budget consumed, u = Σ_v w_v·σ(θ_{β(v),d} − b̂)
 * (w = 1 for the decision agent, `workerWeight` for workers), where budget consumed is
 * max(ΔĈ/B_C, ΔL̂/B_L) and every candidate is checked exactly against both budgets with the
 * predictor. Candidates are the backbones no other backbone dominates. Without any budget every
 * agent gets the most able backbone.
 */
export function greedyAssign(
  top: Topology,
  rolePrompts: Readonly<Record<string, string>>,
  ctx: MethodContext,
  opts: AssignmentOptions = {},
): GreedyAssignment {
  const w = opts.workerWeight ?? 0.3;
  const budgets = ctx.budgets;
  const d = ctx.task.domain;
  const c = compileTopology(top, rolePrompts, ctx);
  const n = top.agents.length;
  const weight = c.ids.map((_, i) => (i === c.decision ? 1 : w));
  const prob = new Map(ctx.backbones.map((b) => [b.id, successProbability(b, ctx)]));
  const utilityOf = (assign: readonly Backbone[]): number => assign.reduce((s, b, i) => s + weight[i]! * prob.get(b.id)!, 0);
  const finish = (assign: Backbone[]): GreedyAssignment => {
    const r = predictCompiled(c, assign, d);
    const prediction = toSpecPrediction(c, r, budgets);
    return {
      spec: assignEach(top, (id) => assign[c.ids.indexOf(id)]!.id),
      prediction,
      utility: utilityOf(assign),
      fits: prediction.fits,
    };
  };

  if (budgets.maxCostUsd === undefined && budgets.maxLatencyS === undefined) {
    return finish(new Array<Backbone>(n).fill(rankByAbility(ctx)[0]!));
  }
  let start: { assign: Backbone[]; over: number } | undefined;
  for (const b of ctx.backbones) {
    const assign = new Array<Backbone>(n).fill(b);
    const over = overrun(predictCompiled(c, assign, d), budgets);
    if (!start || over < start.over - 1e-15) start = { assign, over };
  }
  const assign = start!.assign;
  let cur = predictCompiled(c, assign, d);
  if (!fitsBudgets(cur, budgets)) return finish(assign);
  const usage = (pr: { costUsd: number; latencyS: number }): number =>
    Math.max(
      budgets.maxCostUsd !== undefined ? pr.costUsd / budgets.maxCostUsd : 0,
      budgets.maxLatencyS !== undefined ? pr.latencyS / budgets.maxLatencyS : 0,
    );
  const candidates = undominated(ctx);
  // Every accepted move raises utility strictly, so the loop ends; the cap is only a guard.
  for (let step = 0; step < 10_000; step++) {
    let best: { i: number; b: Backbone; du: number; ratio: number; pred: ReturnType<typeof predictCompiled> } | undefined;
    const curUse = usage(cur);
    for (let i = 0; i < n; i++) {
      const old = assign[i]!;
      for (const b of candidates) {
        const du = weight[i]! * (prob.get(b.id)! - prob.get(old.id)!);
        if (du <= 1e-12) continue;
        assign[i] = b;
        const pred = predictCompiled(c, assign, d);
        assign[i] = old;
        if (!fitsBudgets(pred, budgets)) continue;
        const dUse = usage(pred) - curUse;
        const ratio = dUse <= 1e-15 ? Infinity : du / dUse;
        if (!best || ratio > best.ratio || (ratio === best.ratio && du > best.du)) best = { i, b, du, ratio, pred };
      }
    }
    if (!best) break;
    assign[best.i] = best.b;
    cur = best.pred;
  }
  return finish(assign);
}

export function describePrediction(p: { costUsd: number; latencyS: number }): string {
  return `predicted $${p.costUsd.toPrecision(3)}, ${p.latencyS.toPrecision(3)} s`;
}

export function planPrediction(p: SpecPrediction): PlanPrediction {
  return { costUsd: p.costUsd, latencyS: p.latencyS, fits: p.fits };
}

export interface SequenceChoice extends HomogeneousChoice {
  /** Index into the sequence of the topology taken. */
  step: number;
}

/**
 * Picks a (topology, homogeneous backbone) pair from a sequence of ever smaller topologies.
 * `topology-first`: the first topology for which some backbone fits, with its best affordable
 * backbone. `backbone-first`: the most able backbone for which some topology of the sequence fits,
 * with the first (largest) such topology. Neither fits: the last topology on the backbone with the
 * smallest overrun.
 */
export function firstFit(
  sequence: readonly Topology[],
  rolePrompts: Readonly<Record<string, string>>,
  ctx: MethodContext,
  mode: 'topology-first' | 'backbone-first',
): SequenceChoice {
  if (sequence.length === 0) throw new Error('firstFit: empty sequence');
  if (mode === 'topology-first') {
    for (let step = 0; step < sequence.length; step++) {
      const ch = chooseHomogeneous(sequence[step]!, rolePrompts, ctx);
      if (ch.fits) return { ...ch, step };
    }
  } else {
    const compiled = sequence.map((t) => compileTopology(t, rolePrompts, ctx));
    for (const b of rankByAbility(ctx)) {
      for (let step = 0; step < sequence.length; step++) {
        const c = compiled[step]!;
        const r = predictCompiled(c, new Array<Backbone>(c.ids.length).fill(b), ctx.task.domain);
        if (fitsBudgets(r, ctx.budgets)) {
          const top = sequence[step]!;
          return { backbone: b, spec: assignAll(top, b.id), prediction: toSpecPrediction(c, r, ctx.budgets), fits: true, step };
        }
      }
    }
  }
  const last = sequence.length - 1;
  return { ...chooseHomogeneous(sequence[last]!, rolePrompts, ctx), step: last };
}

/** Number of workers the topology-first methods start from: the domain's roles, 3 to 5. */
export function topologyWorkerCount(ctx: MethodContext): number {
  return Math.max(3, Math.min(5, ctx.roles.length));
}
