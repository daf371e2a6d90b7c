/**
 * Query-conditioned role-backbone matching (METHOD.md Stage 1.3) as a small MIP:
 *
 *   max  Σ_{r,m} (u_{r,m} − λ_C·c_{r,m}/C_ref) x_{r,m} − λ_L·L̂/L_ref
 *   s.t. Σ_m x_{r,m} = 1 for required roles (the decision agent), ≤ 1 for the others,
 *        Ĉ = Σ c_{r,m} x_{r,m} ≤ B_C,   L̂ ≤ B_L,   x binary.
 *
 * c_{r,m} and ℓ_{r,m} are the role's standalone call (system prompt + query, mean output) on m.
 * Latency is non-linear in the topology, so L̂ uses a linear proxy: the two-layer star, all
 * active workers in parallel then the decision agent, L̂ = ℓ_dec + z with z ≥ ℓ_r for every
 * active worker r (z continuous). Both Ĉ and L̂ are lower bounds on any topology in which every
 * worker reaches the decision agent (edges only add input tokens and serial steps), so the
 * budget rows only remove assignments that no topology could make feasible. Dividing by
 * C_ref/L_ref (the budgets, or typical values without one) makes λ dimensionless.
 *
 * core builds CPLEX LP text and parses the solution; activities/matching-solver.ts runs HiGHS.
 */

export interface MatchingRole {
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
    objective += p.utility[r]![m]! - (p.lambdaC * p.costUsd[r]![m]!) / p.costRef;
    costUsd += p.costUsd[r]![m]!;
    if (r !== p.decision) workerLat = Math.max(workerLat, p.latencyS[r]![m]!);
  });
  const dm = a[p.decision] ?? -1;
  const latencyProxyS = (dm >= 0 ? p.latencyS[p.decision]![dm]! : 0) + workerLat;
  objective -= (p.lambdaL * latencyProxyS) / p.latencyRef;
  if (p.maxCostUsd !== undefined && costUsd > p.maxCostUsd) feasible = false;
  if (p.maxLatencyS !== undefined && latencyProxyS > p.maxLatencyS) feasible = false;
  return { objective, costUsd, latencyProxyS, feasible };
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

export const xName = (r: number, m: number): string => `x_${r}_${m}`;

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
  const obj: string[] = [];
  for (let r = 0; r < R; r++) {
    for (let m = 0; m < M; m++) {
      let c = p.utility[r]![m]! - (p.lambdaC * p.costUsd[r]![m]!) / p.costRef;
      if (r === p.decision) c -= (p.lambdaL * p.latencyS[r]![m]!) / p.latencyRef;
      obj.push(term(c, xName(r, m), obj.length === 0));
    }
  }
  obj.push(term(-p.lambdaL / p.latencyRef, 'z', false));
  const rows: string[] = [];
  for (let r = 0; r < R; r++) {
    const lhs = [...Array(M).keys()].map((m, i) => term(1, xName(r, m), i === 0)).join(' ');
    rows.push(` one_${r}: ${lhs} ${p.roles[r]!.required ? '=' : '<='} 1`);
  }
  if (p.maxCostUsd !== undefined) {
    const lhs: string[] = [];
    for (let r = 0; r < R; r++) for (let m = 0; m < M; m++) lhs.push(term(p.costUsd[r]![m]! * COST_SCALE, xName(r, m), lhs.length === 0));
    const rhs = p.maxCostUsd * COST_SCALE * (1 - rhsMargin);
    rows.push(` cost: ${lhs.join(' ')} <= ${fmt(rhs)}`);
  }
  for (let r = 0; r < R; r++) {
    if (r === p.decision) continue;
    // z ≥ Σ_m ℓ_{r,m} x_{r,m}: z is the slowest worker in the parallel layer.
    const lhs = [...Array(M).keys()].map((m) => term(-p.latencyS[r]![m]!, xName(r, m), false)).join(' ');
    rows.push(` lat_${r}: z ${lhs} >= 0`);
  }
  if (p.maxLatencyS !== undefined) {
    const lhs = [...Array(M).keys()].map((m, i) => term(p.latencyS[p.decision]![m]!, xName(p.decision, m), i === 0));
    rows.push(` latency: ${lhs.join(' ')} + 1 z <= ${fmt(p.maxLatencyS * (1 - rhsMargin))}`);
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
  return ['Maximize', ` obj: ${obj.join(' ')}`, 'Subject To', ...rows, 'Bounds', ' z >= 0', 'Binaries', ` ${bins.join(' ')}`, 'End', ''].join('\n');
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
      best = { status: 'optimal', assignment: [...a], objective: v.objective, costUsd: v.costUsd, latencyProxyS: v.latencyProxyS, solver: 'exhaustive' };
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
