import type { LatencyModel } from '../pool';
import { callLatencyS } from '../estimate';

/** Dense linear algebra and least-squares fits used by profiling (small problems, plain arrays). */

/** Solves A x = b by Gaussian elimination with partial pivoting; throws when A is singular. */
function solveLinear(A: readonly (readonly number[])[], b: readonly number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    if (Math.abs(M[p]![c]!) < 1e-12) throw new Error('singular system');
    [M[c], M[p]] = [M[p]!, M[c]!];
    const pivot = M[c]!;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const row = M[r]!;
      const f = row[c]! / pivot[c]!;
      if (f === 0) continue;
      for (let k = c; k <= n; k++) row[k] = row[k]! - f * pivot[k]!;
    }
  }
  return M.map((row, i) => row[n]! / row[i]!);
}

function gram(X: readonly (readonly number[])[], cols: readonly number[]): { XtX: number[][] } {
  const XtX = cols.map(() => cols.map(() => 0));
  for (const row of X) {
    for (let i = 0; i < cols.length; i++) {
      const xi = row[cols[i]!]!;
      if (xi === 0) continue;
      for (let j = 0; j < cols.length; j++) XtX[i]![j]! += xi * row[cols[j]!]!;
    }
  }
  return { XtX };
}

export interface RidgeModel {
  weights: number[];
  bias: number;
}

/**
 * Ridge regression with an unpenalised intercept (X and y are centred first), solved through the
 * normal equations (p is ~140, so a dense solve is cheap).
 */
export function ridgeFit(X: readonly (readonly number[])[], y: readonly number[], lambda: number): RidgeModel {
  const n = X.length;
  if (n === 0) throw new Error('ridgeFit: no rows');
  const p = X[0]!.length;
  const mx = new Array<number>(p).fill(0);
  for (const row of X) for (let j = 0; j < p; j++) mx[j]! += row[j]! / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  const Xc = X.map((row) => row.map((v, j) => v - mx[j]!));
  const cols = [...Array(p).keys()];
  const { XtX } = gram(Xc, cols);
  const Xty = new Array<number>(p).fill(0);
  Xc.forEach((row, i) => {
    const yi = y[i]! - my;
    for (let j = 0; j < p; j++) Xty[j]! += row[j]! * yi;
  });
  for (let j = 0; j < p; j++) XtX[j]![j]! += Math.max(lambda, 1e-9);
  const weights = solveLinear(XtX, Xty);
  const bias = my - weights.reduce((s, w, j) => s + w * mx[j]!, 0);
  return { weights, bias };
}

export function linearPredict(model: RidgeModel, x: readonly number[]): number {
  let s = model.bias;
  for (let j = 0; j < model.weights.length; j++) s += model.weights[j]! * (x[j] ?? 0);
  return s;
}

/**
 * Non-negative least squares for a handful of columns: try every active set, keep the best fit
 * whose coefficients are all ≥ 0. Exact for p ≤ ~8, which is all latency fitting needs.
 */
function nnlsSmall(X: readonly (readonly number[])[], y: readonly number[]): number[] {
  const p = X[0]?.length ?? 0;
  let best: { coef: number[]; sse: number } = { coef: new Array<number>(p).fill(0), sse: y.reduce((s, v) => s + v * v, 0) };
  for (let mask = 1; mask < 1 << p; mask++) {
    const cols = [...Array(p).keys()].filter((j) => (mask >> j) & 1);
    const { XtX } = gram(X, cols);
    const Xty = cols.map((c) => X.reduce((s, row, i) => s + row[c]! * y[i]!, 0));
    let sol: number[];
    try {
      sol = solveLinear(XtX, Xty);
    } catch {
      continue;
    }
    if (sol.some((v) => v < 0)) continue;
    const coef = new Array<number>(p).fill(0);
    cols.forEach((c, i) => (coef[c] = sol[i]!));
    const sse = X.reduce((s, row, i) => {
      const r = y[i]! - row.reduce((a, v, j) => a + v * coef[j]!, 0);
      return s + r * r;
    }, 0);
    if (sse < best.sse - 1e-15) best = { coef, sse };
  }
  return best.coef;
}

export interface LatencyObservation {
  nIn: number;
  nOut: number;
  seconds: number;
}

export interface LatencyFit {
  model: LatencyModel;
  rmseS: number;
  n: number;
}

/**
 * Plausible ranges for a served model (issue #11): a fit outside them comes from queueing or from a
 * term the data cannot identify, not from the model. An unidentifiable per-token term (fitted time
 * ~0) takes the prior's value when one is given, else the range's bound.
 */
export const PLAUSIBLE_LATENCY = { maxTtftS: 10, maxPrefillTps: 50_000, maxDecodeTps: 2_000, minTps: 1 } as const;
const MAX_TPS = PLAUSIBLE_LATENCY.maxPrefillTps;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * Least-squares fit of seconds = ttft + nIn/prefill + nOut/decode: linear in (1, nIn, nOut) with
 * non-negative coefficients; per-token times are inverted to throughputs. Token counts are scaled
 * to thousands so the normal equations are well conditioned.
 */
export function fitLatencyModel(obs: readonly LatencyObservation[], prior?: LatencyModel): LatencyFit {
  if (obs.length === 0) throw new Error('fitLatencyModel: no observations');
  const X = obs.map((o) => [1, o.nIn / 1000, o.nOut / 1000]);
  const y = obs.map((o) => o.seconds);
  const [c0, c1, c2] = nnlsSmall(X, y) as [number, number, number];
  const P = PLAUSIBLE_LATENCY;
  const tps = (c: number, max: number, fallback: number | undefined): number =>
    clamp(c > 1000 / MAX_TPS ? 1000 / c : (fallback ?? max), P.minTps, max);
  const model: LatencyModel = {
    ttftS: clamp(c0, 0, P.maxTtftS),
    prefillTps: tps(c1, P.maxPrefillTps, prior?.prefillTps),
    decodeTps: tps(c2, P.maxDecodeTps, prior?.decodeTps),
  };
  const rmseS = Math.sqrt(
    obs.reduce((s, o) => {
      const r = o.seconds - callLatencyS(model, o.nIn, o.nOut);
      return s + r * r;
    }, 0) / obs.length,
  );
  return { model, rmseS, n: obs.length };
}
