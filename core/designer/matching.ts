/**
 * Query-conditioned role-backbone matching (docs/METHOD.md §1.3) as a small MIP:
 *
 *   max  Σ_{r,m} (u_{r,m} − λ_C·c_{r,m}/C_ref − λ_L·w_r·ℓ_{r,m}/L_ref) x_{r,m}
 *   s.t. Σ_m x_{r,m} = 1 for required roles (the decision agent), ≤ 1 for the others,
 *        Ĉ = Σ c_{r,m} x_{r,m} ≤ B_C,
 *        L̂ = ℓ_dec + max_{active workers r} ℓ_r ≤ B_L,
 *        x binary.
 *
 * c_{r,m} and ℓ_{r,m} are role r's standalone call (system prompt + query, mean output) on m.
 * Latency is a longest path, not linear, so it enters in two linear ways:
 *  - budget: L̂ is the two-layer star (workers in parallel, then the decision agent). It is
 *    enforced exactly by clique rows: for each worker r and decision backbone m,
 *    x_{dec,m} + Σ_{m': ℓ_{dec,m} + ℓ_{r,m'} > B_L} x_{r,m'} ≤ 1 (and x_{dec,m} = 0 when ℓ_{dec,m} > B_L);
 *  - objective: the linear proxy ℓ_dec + (1/|W|)·Σ_{r∈W} ℓ_r, i.e. w_dec = 1, w_worker = 1/|W|
 *    (each worker contributes its share of a parallel layer).
 * Ĉ and the star L̂ are lower bounds on any topology in which every worker reaches the decision
 * agent (edges only add input tokens and serial steps), so the budget rows only remove assignments
 * no topology could make feasible. Dividing by C_ref/L_ref (the budgets, or typical values when
 * absent) makes λ dimensionless. An earlier formulation with a continuous max-variable z took
 * HiGHS 20–150 ms per solve (weak relaxation, many root cuts); the clique form solves in ~1 ms.
 *
 * core builds CPLEX LP text and parses the solution; activities/matching-solver.ts runs HiGHS.
 */
import type { Budgets } from '../mas';
import { irtProbability } from '../profiling/irt';
import { abilityFor, type ProfiledBackbone } from '../profiling/pool-profile';
import { standaloneCall, type AgentSlot, type PredictionContext } from './predict';

interface MatchingRole {
  id: string;
  /** Must get a backbone (the decision agent). */
  required: boolean;
}

export interface MatchingProblem {
  roles: MatchingRole[];
  /** Backbone ids, columns of the matrices below. */
  candidates: string[];
  /** u_{r,m}: predicted utility of giving role r backbone m. */
  utility: number[][];
  costUsd: number[][];
  latencyS: number[][];
  /** Role index whose latency is serial (the decision agent). */
  decision: number;
  maxCostUsd?: number;
  maxLatencyS?: number;
  lambdaC: number;
  lambdaL: number;
  costRef: number;
  latencyRef: number;
}

/** Candidate index per role; -1 when the role gets no backbone (inactive). */
export type Assignment = number[];

export interface MatchingSolution {
  status: 'optimal' | 'infeasible';
  assignment: Assignment;
  objective: number;
  costUsd: number;
  latencyProxyS: number;
  /** What produced it, for reports. */
  solver: string;
}

/** Scale of cost in the LP (micro-dollars) so coefficients are O(1) for the solver's tolerances. */
const COST_SCALE = 1e6;

export interface AssignmentValue {
  objective: number;
  costUsd: number;
  latencyProxyS: number;
  feasible: boolean;
}

/** Objective weight of a role's latency in the linear proxy. */
function latencyWeight(p: MatchingProblem, r: number): number {
  return r === p.decision ? 1 : 1 / Math.max(1, p.roles.length - 1);
}

export function evaluateAssignment(p: MatchingProblem, a: Assignment): AssignmentValue {
  let objective = 0;
  let costUsd = 0;
  let workerLat = 0;
  let feasible = true;
  p.roles.forEach((role, r) => {
    const m = a[r] ?? -1;
    if (m < 0) {
      if (role.required) feasible = false;
      return;
    }
    objective += objectiveCoef(p, r, m);
    costUsd += p.costUsd[r]![m]!;
    if (r !== p.decision) workerLat = Math.max(workerLat, p.latencyS[r]![m]!);
  });
  const dm = a[p.decision] ?? -1;
  const latencyProxyS = (dm >= 0 ? p.latencyS[p.decision]![dm]! : 0) + workerLat;
  if (p.maxCostUsd !== undefined && costUsd > p.maxCostUsd) feasible = false;
  if (p.maxLatencyS !== undefined && latencyProxyS > p.maxLatencyS) feasible = false;
  return { objective, costUsd, latencyProxyS, feasible };
}

function objectiveCoef(p: MatchingProblem, r: number, m: number): number {
  return (
    p.utility[r]![m]! -
    (p.lambdaC * p.costUsd[r]![m]!) / p.costRef -
    (p.lambdaL * latencyWeight(p, r) * p.latencyS[r]![m]!) / p.latencyRef
  );
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`non-finite LP coefficient ${x}`);
  return Number(x.toPrecision(12)).toString();
}

function term(coef: number, name: string, first: boolean): string {
  const sign = coef < 0 ? '-' : '+';
  const body = `${fmt(Math.abs(coef))} ${name}`;
  return first && sign === '+' ? body : `${sign} ${body}`;
}

const xName = (r: number, m: number): string => `x_${r}_${m}`;

/**
 * The MIP in CPLEX LP format (HiGHS `solve` input). `exclude` adds no-good cuts: when the solver's
 * optimum breaks a budget by less than its feasibility tolerance, the wrapper cuts that exact
 * assignment off and solves again, so exact-boundary solutions stay feasible. `rhsMargin`
 * (relative) tightens the budget rows as a last resort.
 */
export function matchingToLp(p: MatchingProblem, opts: { rhsMargin?: number; exclude?: readonly Assignment[] } = {}): string {
  const rhsMargin = opts.rhsMargin ?? 0;
  const R = p.roles.length;
  const M = p.candidates.length;
  const dec = p.decision;
  const obj: string[] = [];
  for (let r = 0; r < R; r++) for (let m = 0; m < M; m++) obj.push(term(objectiveCoef(p, r, m), xName(r, m), obj.length === 0));
  const rows: string[] = [];
  for (let r = 0; r < R; r++) {
    const lhs = [...Array(M).keys()].map((m, i) => term(1, xName(r, m), i === 0)).join(' ');
    rows.push(` one_${r}: ${lhs} ${p.roles[r]!.required ? '=' : '<='} 1`);
  }
  if (p.maxCostUsd !== undefined) {
    const lhs: string[] = [];
    for (let r = 0; r < R; r++)
      for (let m = 0; m < M; m++) lhs.push(term(p.costUsd[r]![m]! * COST_SCALE, xName(r, m), lhs.length === 0));
    rows.push(` cost: ${lhs.join(' ')} <= ${fmt(p.maxCostUsd * COST_SCALE * (1 - rhsMargin))}`);
  }
  const fixedOff: string[] = dominatedColumns(p).map(([r, m]) => xName(r, m));
  if (p.maxLatencyS !== undefined) {
    const cap = p.maxLatencyS * (1 - rhsMargin);
    for (let m = 0; m < M; m++) {
      const ld = p.latencyS[dec]![m]!;
      if (ld > cap) {
        if (!fixedOff.includes(xName(dec, m))) fixedOff.push(xName(dec, m));
        continue;
      }
      for (let r = 0; r < R; r++) {
        if (r === dec) continue;
        const slow = [...Array(M).keys()].filter((k) => ld + p.latencyS[r]![k]! > cap);
        if (slow.length === 0) continue;
        rows.push(
          ` lat_${r}_${m}: ${[xName(dec, m), ...slow.map((k) => xName(r, k))].map((x, i) => term(1, x, i === 0)).join(' ')} <= 1`,
        );
      }
    }
  }
  (opts.exclude ?? []).forEach((a, k) => {
    const lhs: string[] = [];
    let ones = 0;
    for (let r = 0; r < R; r++) {
      for (let m = 0; m < M; m++) {
        const on = a[r] === m;
        if (on) ones++;
        lhs.push(term(on ? 1 : -1, xName(r, m), lhs.length === 0));
      }
    }
    rows.push(` cut_${k}: ${lhs.join(' ')} <= ${ones - 1}`);
  });
  const bins: string[] = [];
  for (let r = 0; r < R; r++) for (let m = 0; m < M; m++) bins.push(xName(r, m));
  const bounds = fixedOff.map((x) => ` ${x} = 0`);
  return [
    'Maximize',
    ` obj: ${obj.join(' ')}`,
    'Subject To',
    ...rows,
    ...(bounds.length ? ['Bounds', ...bounds] : []),
    'Binaries',
    ` ${bins.join(' ')}`,
    'End',
    '',
  ].join('\n');
}

/**
 * Columns (r, m) dominated within role r by another backbone k with utility ≥, cost ≤ and latency
 * ≤ (ties broken by index). Moving r from m to k keeps every row feasible and the objective at
 * least as high, so fixing x_{r,m} = 0 is an exact reduction; it removes the near-symmetric
 * alternatives that otherwise cost HiGHS branch-and-bound work.
 */
function dominatedColumns(p: MatchingProblem): [number, number][] {
  const out: [number, number][] = [];
  const M = p.candidates.length;
  p.roles.forEach((_, r) => {
    const u = p.utility[r]!;
    const c = p.costUsd[r]!;
    const l = p.latencyS[r]!;
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < M; k++) {
        if (k === m) continue;
        const geq = u[k]! >= u[m]! && c[k]! <= c[m]! && l[k]! <= l[m]!;
        const strict = u[k]! > u[m]! || c[k]! < c[m]! || l[k]! < l[m]!;
        if (geq && (strict || k < m)) {
          out.push([r, m]);
          break;
        }
      }
    }
  });
  return out;
}

/** The subset of a HiGHS result this module reads. */
export interface LpResult {
  Status: string;
  Columns: Record<string, { Primal?: number } | undefined>;
}

function infeasible(p: MatchingProblem, solver: string): MatchingSolution {
  return { status: 'infeasible', assignment: p.roles.map(() => -1), objective: -Infinity, costUsd: 0, latencyProxyS: 0, solver };
}

/**
 * Reads x from a HiGHS result and re-checks the constraints exactly in JS. `overBudget` marks a
 * solver-optimal point that breaks a budget by less than the solver's tolerance (retry tighter).
 */
export function parseMatchingSolution(
  p: MatchingProblem,
  res: LpResult,
  solver = 'highs',
): MatchingSolution & { overBudget?: boolean } {
  if (res.Status !== 'Optimal') return infeasible(p, solver);
  const assignment = p.roles.map((_, r) => {
    let best = -1;
    for (let m = 0; m < p.candidates.length; m++) if ((res.Columns[xName(r, m)]?.Primal ?? 0) > 0.5) best = m;
    return best;
  });
  const v = evaluateAssignment(p, assignment);
  if (!v.feasible) return { ...infeasible(p, solver), assignment, overBudget: true };
  return { status: 'optimal', assignment, objective: v.objective, costUsd: v.costUsd, latencyProxyS: v.latencyProxyS, solver };
}

export type MatchingSolver = (p: MatchingProblem) => MatchingSolution;

/**
 * Exhaustive reference solver: the tests' ground truth for the MIP, and a dependency-free solver
 * for tiny instances in core-only tests. Production matching goes through HiGHS.
 */
export const solveMatchingExhaustive: MatchingSolver = (p) => {
  const R = p.roles.length;
  const M = p.candidates.length;
  const a: Assignment = p.roles.map((role) => (role.required ? 0 : -1));
  let best: MatchingSolution = infeasible(p, 'exhaustive');
  for (;;) {
    const v = evaluateAssignment(p, a);
    if (v.feasible && v.objective > best.objective + 1e-12) {
      best = {
        status: 'optimal',
        assignment: [...a],
        objective: v.objective,
        costUsd: v.costUsd,
        latencyProxyS: v.latencyProxyS,
        solver: 'exhaustive',
      };
    }
    let r = 0;
    for (; r < R; r++) {
      const lo = p.roles[r]!.required ? 0 : -1;
      if (a[r]! < M - 1) {
        a[r]!++;
        break;
      }
      a[r] = lo;
    }
    if (r === R) return best;
  }
};

/** Inputs to build the matching problem of one query from the profile. */
export interface MatchingContext {
  slots: readonly AgentSlot[];
  ctx: PredictionContext;
  candidates: readonly ProfiledBackbone[];
  budgets: Budgets;
  refs: { costUsd: number; latencyS: number };
  /** Utility of a worker role relative to the decision agent (1). */
  workerUtility: number;
  lambdaC: number;
  lambdaL: number;
  /** Every role must get a backbone (plug-in use on a fixed topology). */
  allRequired?: boolean;
}

/**
 * Utilities follow the accuracy surrogate (predict.ts), linearised: the decision agent is worth
 * its correctness p_m = σ(θ_{m,d} − b̂(q)); a worker is worth `workerUtility`·(2p_m − 1)/|W|. The
 * surrogate's peer bonus is a mean over predecessors, so a worker is credited with its 1/|W| share
 * of that mean: workers that lean wrong have negative utility and are left out, and a full set of
 * good workers is worth about what the peer bonus adds to the decision agent's correctness.
 * (Crediting each worker fully, as a sum, made the MIP trade the decision agent's backbone for
 * more workers: 41.5 % vs 42.1 % mean predicted accuracy on a 7-backbone budget grid.)
 * Costs and latencies are those of role r's standalone call on m.
 */
export function buildMatchingProblem(mc: MatchingContext): MatchingProblem {
  const dec = mc.slots.length - 1;
  const calls = mc.slots.map((slot) => mc.candidates.map((b) => standaloneCall(b, slot, mc.ctx)));
  return {
    roles: mc.slots.map((s, r) => ({ id: s.role, required: r === dec || (mc.allRequired ?? false) })),
    candidates: mc.candidates.map((b) => b.id),
    utility: mc.slots.map((_, r) =>
      mc.candidates.map((b) => {
        const p = irtProbability(abilityFor(b, mc.ctx.domain), mc.ctx.difficulty);
        return r === dec ? p : (mc.workerUtility * (2 * p - 1)) / Math.max(1, mc.slots.length - 1);
      }),
    ),
    costUsd: calls.map((row) => row.map((c) => c.costUsd)),
    latencyS: calls.map((row) => row.map((c) => c.latencyS)),
    decision: dec,
    ...(mc.budgets.maxCostUsd !== undefined ? { maxCostUsd: mc.budgets.maxCostUsd } : {}),
    ...(mc.budgets.maxLatencyS !== undefined ? { maxLatencyS: mc.budgets.maxLatencyS } : {}),
    lambdaC: mc.lambdaC,
    lambdaL: mc.lambdaL,
    costRef: mc.refs.costUsd,
    latencyRef: mc.refs.latencyS,
  };
}
