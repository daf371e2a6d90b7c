import { validateSpec } from '../dag';
import type { Domain } from '../domain';
import type { Budgets, MasSpec } from '../mas';
import { sigmoid } from '../estimate';
import { abilityFor, type PoolProfile, type ProfiledBackbone } from '../profiling/pool-profile';
import { predictMas, type AgentSlot, type DesignGraph, type MasPrediction, type PredictionContext, type TokenCounter } from './predict';

/**
 * The designer's design space beyond the learned topologies (issue #13): what the strongest
 * baselines do is in it too, so the designer can choose it when it predicts best.
 *   - `single`: one agent (the decision role) on one backbone;
 *   - `vote`:   k chain-of-thought samples of one backbone and an aggregator that takes the vote
 *               (the `cot-sc` template, any k in `voteSizes`);
 *   - `cascade`: conditional escalation: two samples of a cheap backbone, accepted when they agree,
 *               else one call of a stronger backbone (the runtime's cascade, workflows/campaign.ts);
 *   - `learned`: the trained backbone-then-topology design (designMas).
 * Every candidate is scored by its predicted accuracy under both budgets:
 *   E_b[acc(b)] · P(cost ≤ B_C) · P(latency ≤ B_L),
 * where b ~ N(b̂, σ_b) is the query's difficulty with its uncertainty (the accuracy surrogate of
 * predict.ts at each quadrature node) and spend is lognormal around its prediction with log-sd
 * `spendSpread` (output lengths vary, and the runtime truncates a call that would overrun).
 * The best score wins; candidates within `tieTolerance` of it tie, and among ties the one that
 * spends less of the *other* resource wins (least latency under a cost-only budget, least cost
 * under a latency-only budget, least total budget share under both).
 */

export interface PortfolioHyper {
  tieTolerance: number;
  /** Log-sd of a design's realised spend around its prediction. */
  spendSpread: number;
  /** σ_b when the profile gives no better estimate of b̂'s error. */
  difficultySpread: number;
  voteSizes: readonly number[];
  /** Chance that two wrong free-form answers coincide (choice questions: 1/(options − 1)). */
  wrongAgreement: number;
  /** Include cascades (a caller that can run only one MAS spec, like `run`, turns them off). */
  cascades: boolean;
}

export const DEFAULT_PORTFOLIO: PortfolioHyper = {
  tieTolerance: 0.01,
  spendSpread: 0.35,
  difficultySpread: 1.5,
  voteSizes: [3, 5],
  wrongAgreement: 0.15,
  cascades: true,
};

type PortfolioKind = 'learned' | 'single' | 'vote' | 'cascade';

export interface PortfolioEntry {
  kind: PortfolioKind;
  label: string;
  spec: MasSpec;
  /** Present for `cascade`: the stages (single-agent specs) and samples per stage. */
  cascade?: { stages: MasSpec[]; samples: number[] };
  /** E_b[accuracy] if nothing were truncated. */
  accuracy: number;
  /** Predicted accuracy under the budgets (the selection score). */
  score: number;
  /** Expected spend (a cascade escalates only sometimes). */
  costUsd: number;
  latencyS: number;
  /** Worst case (every cascade stage runs). */
  worstCostUsd: number;
  worstLatencyS: number;
}

export interface PortfolioRequest {
  profile: PoolProfile;
  domain: Domain;
  budgets: Budgets;
  difficulty: number;
  /** σ_b of b̂; default hyper.difficultySpread. */
  difficultySpread?: number;
  queryTokens: number;
  countTokens: TokenCounter;
  peerSway: PredictionContext['peerSway'];
  /** Decision role id and its prompt; `vote` samples and aggregator use the cot-sc personas. */
  decisionRole: { id: string; prompt: string };
  votePrompts: { sample: string; aggregate: string };
  /** Options of a multiple-choice question (0: free-form answer). */
  choiceOptions: number;
  /** The learned design, when there is one. */
  learned?: { spec: MasSpec; rolePrompts: Readonly<Record<string, string>> };
  hyper?: Partial<PortfolioHyper>;
}

// Probabilists' Gauss–Hermite would do; 11 equally spaced nodes on ±2.5σ with normal weights are
// plenty for a smooth integrand.
const NODES = (() => {
  const zs = Array.from({ length: 11 }, (_, i) => -2.5 + 0.5 * i);
  const ws = zs.map((z) => Math.exp(-(z * z) / 2));
  const t = ws.reduce((a, b) => a + b, 0);
  return zs.map((z, i) => ({ z, w: ws[i]! / t }));
})();

function normalCdf(x: number): number {
  // Abramowitz–Stegun 7.1.26 via erf; |error| < 1.5e-7.
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const y =
    1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** P(spend ≤ budget) for a lognormal spend with mean `predicted` and log-sd `s`. */
export function fitProbability(predicted: number, budget: number | undefined, s: number): number {
  if (budget === undefined) return 1;
  if (!(predicted > 0)) return 1;
  if (!(budget > 0)) return 0;
  if (s <= 0) return predicted <= budget ? 1 : 0;
  return normalCdf((Math.log(budget / predicted) + (s * s) / 2) / s);
}

interface Compiled {
  ids: string[];
  slots: AgentSlot[];
  adj: boolean[][];
}

/** Lays a spec out on design slots (topological order, decision last), like plugin.ts does. */
function compile(spec: MasSpec, rolePrompts: Readonly<Record<string, string>>, count: TokenCounter): Compiled {
  const { order } = validateSpec(spec);
  const ids = [...order.filter((id) => id !== spec.decision), spec.decision];
  const slots = ids.map((id, i): AgentSlot => {
    const a = spec.agents.find((x) => x.id === id)!;
    return { role: a.id, roleId: a.role, systemTokens: count(a.systemPrompt ?? rolePrompts[a.role] ?? ''), isDecision: i === ids.length - 1 };
  });
  const pos = new Map(ids.map((id, i) => [id, i]));
  const adj = ids.map(() => new Array<boolean>(ids.length).fill(false));
  for (const [u, v] of spec.edges) adj[pos.get(u)!]![pos.get(v)!] = true;
  return { ids, slots, adj };
}

/** Predicts a spec on the profile at each difficulty node; cost and latency do not depend on b. */
function predictOver(
  spec: MasSpec,
  rolePrompts: Readonly<Record<string, string>>,
  req: PortfolioRequest,
  byId: ReadonlyMap<string, ProfiledBackbone>,
  sigmaB: number,
): { accuracy: number; base: MasPrediction } {
  const c = compile(spec, rolePrompts, req.countTokens);
  const graph: DesignGraph = {
    slots: c.slots,
    active: c.slots.map(() => true),
    backbone: c.ids.map((id) => byId.get(spec.agents.find((a) => a.id === id)!.backbone)!),
    adj: c.adj,
  };
  let accuracy = 0;
  let base: MasPrediction | undefined;
  for (const { z, w } of NODES) {
    const p = predictMas(graph, { domain: req.domain, difficulty: req.difficulty + sigmaB * z, queryTokens: req.queryTokens, peerSway: req.peerSway });
    accuracy += w * p.accuracy;
    base ??= p;
  }
  return { accuracy, base: base! };
}

export type ScoreRequest = Pick<
  PortfolioRequest,
  'profile' | 'domain' | 'budgets' | 'difficulty' | 'difficultySpread' | 'queryTokens' | 'countTokens' | 'peerSway' | 'hyper'
>;

/**
 * Predicted accuracy of any spec under the budgets (the portfolio's score = accuracy · fit), its
 * chance to fit both budgets, and its spend.
 */
export function scoreSpec(
  spec: MasSpec,
  rolePrompts: Readonly<Record<string, string>>,
  req: ScoreRequest,
): { score: number; accuracy: number; fit: number; costUsd: number; latencyS: number } {
  const h = { ...DEFAULT_PORTFOLIO, ...(req.hyper ?? {}) };
  const byId = new Map(req.profile.backbones.map((b) => [b.id, b]));
  const full = { ...req, decisionRole: { id: '', prompt: '' }, votePrompts: { sample: '', aggregate: '' }, choiceOptions: 0 };
  const { accuracy, base } = predictOver(spec, rolePrompts, full, byId, req.difficultySpread ?? h.difficultySpread);
  const fit =
    fitProbability(base.costUsd, req.budgets.maxCostUsd, h.spendSpread) *
    fitProbability(base.latencyS, req.budgets.maxLatencyS, h.spendSpread);
  return { score: accuracy * fit, accuracy, fit, costUsd: base.costUsd, latencyS: base.latencyS };
}

function singleSpec(role: string, backbone: string): MasSpec {
  return { agents: [{ id: 'decision', role, backbone }], edges: [], decision: 'decision' };
}

/** The `cot-sc` template (core/methods/templates.ts cotScTopology): same ids and personas. */
function voteSpec(role: string, prompts: PortfolioRequest['votePrompts'], decisionPrompt: string, k: number, backbone: string): MasSpec {
  const samples = Array.from({ length: k }, (_, i) => ({
    id: `s${i + 1}`,
    role,
    backbone,
    systemPrompt: `${decisionPrompt}\n\n${prompts.sample}`,
  }));
  const agg = { id: 'aggregator', role, backbone, systemPrompt: `${decisionPrompt}\n\n${prompts.aggregate}` };
  return { agents: [...samples, agg], edges: samples.map((s) => [s.id, agg.id] as [string, string]), decision: agg.id };
}

/** Every candidate design for this query and budget, scored. */
export function portfolio(req: PortfolioRequest): PortfolioEntry[] {
  const h = { ...DEFAULT_PORTFOLIO, ...(req.hyper ?? {}) };
  const sigmaB = req.difficultySpread ?? h.difficultySpread;
  const byId = new Map(req.profile.backbones.map((b) => [b.id, b]));
  const { budgets } = req;
  const fit = (costUsd: number, latencyS: number): number =>
    fitProbability(costUsd, budgets.maxCostUsd, h.spendSpread) * fitProbability(latencyS, budgets.maxLatencyS, h.spendSpread);
  const rolePrompts = { [req.decisionRole.id]: req.decisionRole.prompt };
  const out: PortfolioEntry[] = [];
  const plain = (kind: PortfolioKind, label: string, spec: MasSpec, prompts: Readonly<Record<string, string>>): PortfolioEntry => {
    const { accuracy, base } = predictOver(spec, prompts, req, byId, sigmaB);
    return {
      kind,
      label,
      spec,
      accuracy,
      score: accuracy * fit(base.costUsd, base.latencyS),
      costUsd: base.costUsd,
      latencyS: base.latencyS,
      worstCostUsd: base.costUsd,
      worstLatencyS: base.latencyS,
    };
  };
  const singles = new Map<string, PortfolioEntry>();
  for (const b of req.profile.backbones) {
    const e = plain('single', `single ${b.id}`, singleSpec(req.decisionRole.id, b.id), rolePrompts);
    singles.set(b.id, e);
    out.push(e);
    for (const k of h.voteSizes)
      out.push(plain('vote', `vote ${k}× ${b.id}`, voteSpec(req.decisionRole.id, req.votePrompts, req.decisionRole.prompt, k, b.id), rolePrompts));
  }
  if (req.learned) out.push(plain('learned', 'learned topology', req.learned.spec, req.learned.rolePrompts));

  // Cascades: cheap × 2 (accepted when they agree) → strong × 1.
  const rho = req.choiceOptions > 1 ? 1 / (req.choiceOptions - 1) : h.wrongAgreement;
  for (const cheap of h.cascades ? req.profile.backbones : []) {
    const c = singles.get(cheap.id)!;
    for (const strong of req.profile.backbones) {
      const s = singles.get(strong.id)!;
      if (!(c.costUsd < s.costUsd && abilityFor(cheap, req.domain) < abilityFor(strong, req.domain))) continue;
      const thetaC = abilityFor(cheap, req.domain);
      const thetaS = abilityFor(strong, req.domain);
      // Stage 2 gets what stage 1 left of each budget.
      const fit1 = fit(2 * c.costUsd, c.latencyS);
      const fit2 = fit(
        s.costUsd + (budgets.maxCostUsd !== undefined ? 2 * c.costUsd : 0),
        s.latencyS + (budgets.maxLatencyS !== undefined ? c.latencyS : 0),
      );
      let accuracy = 0;
      let score = 0;
      let escalate = 0;
      for (const { z, w } of NODES) {
        const b = req.difficulty + sigmaB * z;
        const p1 = sigmoid(thetaC - b);
        const p2 = sigmoid(thetaS - b);
        const agreeRight = p1 * p1;
        const esc = 1 - agreeRight - rho * (1 - p1) * (1 - p1);
        accuracy += w * (agreeRight + esc * p2);
        score += w * (agreeRight * fit1 + esc * p2 * fit2);
        escalate += w * esc;
      }
      const stages = [c.spec, s.spec];
      out.push({
        kind: 'cascade',
        label: `cascade ${cheap.id} ×2 → ${strong.id}`,
        spec: c.spec,
        cascade: { stages, samples: [2, 1] },
        accuracy,
        score,
        costUsd: 2 * c.costUsd + escalate * s.costUsd,
        latencyS: c.latencyS + escalate * s.latencyS,
        worstCostUsd: 2 * c.costUsd + s.costUsd,
        worstLatencyS: c.latencyS + s.latencyS,
      });
    }
  }
  return out;
}

/** The other resource's share, for tie-breaks (see the header). */
function otherSpend(e: PortfolioEntry, budgets: Budgets): number {
  const c = budgets.maxCostUsd;
  const l = budgets.maxLatencyS;
  if (c !== undefined && l === undefined) return e.latencyS;
  if (l !== undefined && c === undefined) return e.costUsd;
  if (c !== undefined && l !== undefined) return e.costUsd / c + e.latencyS / l;
  return e.costUsd;
}

/** The best-scoring candidate; ties within the tolerance go to the one spending less of the other resource. */
export function choosePortfolio(entries: readonly PortfolioEntry[], budgets: Budgets, hyper: Partial<PortfolioHyper> = {}): PortfolioEntry {
  if (entries.length === 0) throw new Error('choosePortfolio: no candidates');
  const tol = hyper.tieTolerance ?? DEFAULT_PORTFOLIO.tieTolerance;
  const best = Math.max(...entries.map((e) => e.score));
  const tied = entries.filter((e) => e.score >= best - tol);
  return tied.reduce((a, b) => {
    const d = otherSpend(a, budgets) - otherSpend(b, budgets);
    if (d !== 0) return d < 0 ? a : b;
    return a.score >= b.score ? a : b;
  });
}
