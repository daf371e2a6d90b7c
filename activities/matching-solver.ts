import highsLoader from 'highs';
import {
  matchingToLp,
  type Assignment,
  parseMatchingSolution,
  type LpResult,
  type MatchingProblem,
  type MatchingSolution,
  type MatchingSolver,
} from '../core/designer/matching';

/**
 * Role-backbone matching through HiGHS (WASM MIP solver). The module is instantiated once per
 * process (async WASM init, ~50 ms) and cached; `solve` itself is synchronous, so once loaded it
 * is handed to the pure designer as a plain `MatchingSolver`.
 */

interface LegacySolver {
  solve(problem: string, options?: Record<string, unknown>): unknown;
}

/**
 * Exact optimality (the default MIP gap of 1e-4 would leave near-ties unresolved). On these tiny
 * models HiGHS's fixed costs dominate: symmetry detection and the feasibility-jump heuristic
 * took 5–20 ms per solve and are turned off (measured; the solve is then ~1 ms).
 */
const HIGHS_OPTIONS = {
  output_flag: false,
  random_seed: 0,
  mip_rel_gap: 0,
  mip_abs_gap: 1e-12,
  mip_detect_symmetry: false,
  mip_heuristic_run_feasibility_jump: false,
};
const MAX_CUTS = 16;

let loading: Promise<LegacySolver> | undefined;

function loadHighs(): Promise<LegacySolver> {
  loading ??= (highsLoader() as Promise<LegacySolver>).catch((err: unknown) => {
    loading = undefined; // a failed init may be retried by the next call
    throw err;
  });
  return loading;
}

/** A synchronous solver backed by the cached HiGHS instance. */
export async function createHighsMatchingSolver(): Promise<MatchingSolver> {
  const highs = await loadHighs();
  return (p: MatchingProblem): MatchingSolution => {
    // Budgets are exact; HiGHS accepts rows within ~1e-7. If its optimum overshoots a budget by
    // that much, cut that assignment off and solve again; tighten the rows as a last resort.
    const exclude: Assignment[] = [];
    for (let attempt = 0; attempt < MAX_CUTS; attempt++) {
      const res = highs.solve(matchingToLp(p, { exclude }), HIGHS_OPTIONS) as LpResult;
      const { overBudget, ...sol } = parseMatchingSolution(p, res, 'highs');
      if (!overBudget) return sol;
      exclude.push(sol.assignment);
    }
    const res = highs.solve(matchingToLp(p, { rhsMargin: 1e-6 }), HIGHS_OPTIONS) as LpResult;
    const sol = parseMatchingSolution(p, res, 'highs');
    delete sol.overBudget;
    return sol.status === 'optimal' ? sol : { ...sol, assignment: p.roles.map(() => -1) };
  };
}
