import type { Domain } from '../domain';
import { sigmoid } from '../estimate';

/**
 * Item response theory for backbone profiling: P(correct | m, q) = σ(a_q (θ_{m,d(q)} − b_q)).
 * 1PL fixes a_q = 1; 2PL fits a_q = exp(α_q) (positive discrimination). Maximum a posteriori with
 * a Gaussian (L2) prior on θ, b and α, by block gradient ascent with a diagonal-Newton step size,
 * which converges in tens of sweeps on profiling-sized data.
 */

export type IrtKind = '1pl' | '2pl';

export interface IrtObservation {
  backbone: string;
  item: string;
  domain: Domain;
  correct: boolean;
}

export interface IrtOptions {
  kind: IrtKind;
  /** Prior precision (L2) on every parameter. */
  l2: number;
  maxIterations: number;
  /** Stop when the largest parameter change in a sweep is below this. */
  tolerance: number;
  /**
   * Informative normal prior on θ (replaces the L2 prior on θ): θ_{m,d} ~ N(mean[m][d], sd²). With
   * it the fit is the posterior mode: a backbone with few observations stays near its prior, one
   * with many moves to what the data say, and the prior anchors the logit scale's location.
   * Backbone/domain pairs missing from `mean` keep the plain L2 prior around 0.
   */
  thetaPrior?: { mean: Readonly<Record<string, Partial<Record<Domain, number>>>>; sd: number };
  /** Mean of the L2 prior on item difficulties b (default 0). */
  bPriorMean?: number;
}

const DEFAULT_IRT_OPTIONS: IrtOptions = { kind: '2pl', l2: 0.1, maxIterations: 300, tolerance: 1e-5 };

interface IrtItem {
  id: string;
  domain: Domain;
  b: number;
  a: number;
}

export interface IrtFit {
  kind: IrtKind;
  /** θ per backbone per domain it was observed on. */
  theta: Record<string, Partial<Record<Domain, number>>>;
  /** Posterior standard error of each θ (Laplace: 1/√(Fisher information + prior precision)). */
  thetaSe: Record<string, Partial<Record<Domain, number>>>;
  items: IrtItem[];
  logLikelihood: number;
  iterations: number;
}

export function irtProbability(theta: number, b: number, a = 1): number {
  return sigmoid(a * (theta - b));
}

const MAX_STEP = 1;

export function fitIrt(obs: readonly IrtObservation[], options: Partial<IrtOptions> = {}): IrtFit {
  const opt = { ...DEFAULT_IRT_OPTIONS, ...options };
  const thetaKey = (o: IrtObservation): string => `${o.backbone}\u0000${o.domain}`;
  const thetaIdx = new Map<string, number>();
  const itemIdx = new Map<string, number>();
  const itemDomain: Domain[] = [];
  const itemIds: string[] = [];
  const rows = obs.map((o) => {
    const tk = thetaKey(o);
    if (!thetaIdx.has(tk)) thetaIdx.set(tk, thetaIdx.size);
    if (!itemIdx.has(o.item)) {
      itemIdx.set(o.item, itemIdx.size);
      itemDomain.push(o.domain);
      itemIds.push(o.item);
    } else if (itemDomain[itemIdx.get(o.item)!] !== o.domain) {
      throw new Error(`item ${o.item} observed in two domains`);
    }
    return { t: thetaIdx.get(tk)!, q: itemIdx.get(o.item)!, y: o.correct ? 1 : 0 };
  });
  const theta = new Float64Array(thetaIdx.size);
  const b = new Float64Array(itemIdx.size);
  // Prior mean and precision of every θ and b (α keeps the L2 prior around 0).
  const thetaMean = new Float64Array(theta.length);
  const thetaPrec = new Float64Array(theta.length).fill(opt.l2);
  if (opt.thetaPrior) {
    if (!(opt.thetaPrior.sd > 0)) throw new Error('fitIrt: thetaPrior.sd must be positive');
    for (const [key, i] of thetaIdx) {
      const [backbone, domain] = key.split('\u0000') as [string, Domain];
      const m = opt.thetaPrior.mean[backbone]?.[domain];
      if (m === undefined) continue;
      thetaMean[i] = m;
      thetaPrec[i] = 1 / opt.thetaPrior.sd ** 2;
    }
  }
  theta.set(thetaMean);
  const bMean = new Float64Array(b.length).fill(opt.bPriorMean ?? 0);
  const bPrec = new Float64Array(b.length).fill(opt.l2);
  const alphaMean = new Float64Array(itemIdx.size);
  const alphaPrec = new Float64Array(itemIdx.size).fill(opt.l2);
  const alpha = new Float64Array(itemIdx.size);
  // Initialise b from item p-values (logit of the miss rate) for a quick start.
  const hit = new Float64Array(b.length);
  const cnt = new Float64Array(b.length);
  for (const r of rows) {
    hit[r.q]! += r.y;
    cnt[r.q]! += 1;
  }
  for (let q = 0; q < b.length; q++) {
    const p = (hit[q]! + 0.5) / (cnt[q]! + 1);
    b[q] = Math.log((1 - p) / p);
  }

  const grad = (n: number): { g: Float64Array; h: Float64Array } => ({ g: new Float64Array(n), h: new Float64Array(n) });
  let iterations = 0;
  for (; iterations < opt.maxIterations; iterations++) {
    let maxDelta = 0;
    const apply = (params: Float64Array, g: Float64Array, h: Float64Array, mean: Float64Array, prec: Float64Array): void => {
      for (let i = 0; i < params.length; i++) {
        const step = Math.max(-MAX_STEP, Math.min(MAX_STEP, (g[i]! - prec[i]! * (params[i]! - mean[i]!)) / (h[i]! + prec[i]!)));
        params[i]! += step;
        maxDelta = Math.max(maxDelta, Math.abs(step));
      }
    };
    // θ block
    {
      const { g, h } = grad(theta.length);
      for (const r of rows) {
        const a = opt.kind === '2pl' ? Math.exp(alpha[r.q]!) : 1;
        const p = sigmoid(a * (theta[r.t]! - b[r.q]!));
        g[r.t]! += (r.y - p) * a;
        h[r.t]! += p * (1 - p) * a * a;
      }
      apply(theta, g, h, thetaMean, thetaPrec);
    }
    // b block
    {
      const { g, h } = grad(b.length);
      for (const r of rows) {
        const a = opt.kind === '2pl' ? Math.exp(alpha[r.q]!) : 1;
        const p = sigmoid(a * (theta[r.t]! - b[r.q]!));
        g[r.q]! -= (r.y - p) * a;
        h[r.q]! += p * (1 - p) * a * a;
      }
      apply(b, g, h, bMean, bPrec);
    }
    // α block (2PL only)
    if (opt.kind === '2pl') {
      const { g, h } = grad(alpha.length);
      for (const r of rows) {
        const a = Math.exp(alpha[r.q]!);
        const d = theta[r.t]! - b[r.q]!;
        const p = sigmoid(a * d);
        g[r.q]! += (r.y - p) * a * d;
        h[r.q]! += p * (1 - p) * (a * d) * (a * d);
      }
      apply(alpha, g, h, alphaMean, alphaPrec);
    }
    if (maxDelta < opt.tolerance) {
      iterations++;
      break;
    }
  }

  let logLikelihood = 0;
  const info = new Float64Array(theta.length);
  for (const r of rows) {
    const a = opt.kind === '2pl' ? Math.exp(alpha[r.q]!) : 1;
    const p = Math.min(1 - 1e-12, Math.max(1e-12, sigmoid(a * (theta[r.t]! - b[r.q]!))));
    logLikelihood += r.y ? Math.log(p) : Math.log(1 - p);
    info[r.t]! += p * (1 - p) * a * a;
  }
  const thetaOut: Record<string, Partial<Record<Domain, number>>> = {};
  const thetaSe: Record<string, Partial<Record<Domain, number>>> = {};
  for (const [key, i] of thetaIdx) {
    const [backbone, domain] = key.split('\u0000') as [string, Domain];
    (thetaOut[backbone] ??= {})[domain] = theta[i]!;
    (thetaSe[backbone] ??= {})[domain] = 1 / Math.sqrt(info[i]! + thetaPrec[i]!);
  }
  return {
    kind: opt.kind,
    theta: thetaOut,
    thetaSe,
    items: itemIds.map((id, q) => ({
      id,
      domain: itemDomain[q]!,
      b: b[q]!,
      a: opt.kind === '2pl' ? Math.exp(alpha[q]!) : 1,
    })),
    logLikelihood,
    iterations,
  };
}
