import { sigmoid } from '../estimate';
import { Rng } from '../random';
import { cloneGraph, emptyAdjacency, pruneInactiveEdges, repairSinks, type DesignGraph } from './predict';
import type { WeightTensor } from './trained-designer';

/**
 * Adaptive topology generation (docs/METHOD.md §2.1 representation, §2.2 gates and edge scores):
 *
 *   h_v⁰ = tanh(W₂ᵀ tanh(W₁ᵀ x_v + b₁) + b₂)              unified agent representation
 *   t⁰   = tanh(W_tᵀ x_task + b_t)                          task node
 *   round k:  m = mean_v h_v (candidate agents)
 *             h_v ← tanh(S h_v + N m + T t + b),  t ← tanh(S' t + A m + b')
 *   g_v  = σ(w·h_v + c)                                     gate (decision agent always on)
 *   s_uv = σ(h_uᵀ E h_v + e)   for u before v in the fixed role order (so edges form a DAG)
 *
 * This is the inference path: a pure forward pass over plain arrays (row-major, x·W), mirrored
 * op for op by the tfjs training graph in activities/training.ts.
 */

export const WEIGHT_NAMES = [
  'in1',
  'in1b',
  'in2',
  'in2b',
  'task',
  'taskb',
  'mpSelf',
  'mpNbr',
  'mpTask',
  'mpb',
  'tSelf',
  'tAgg',
  'tb',
  'gate',
  'gateb',
  'edge',
  'edgeb',
] as const;
export type WeightName = (typeof WEIGHT_NAMES)[number];
export type TopologyWeights = Record<WeightName, WeightTensor>;

export function weightShapes(nodeDim: number, taskDim: number, hidden: number): Record<WeightName, number[]> {
  const H = hidden;
  return {
    in1: [nodeDim, H],
    in1b: [H],
    in2: [H, H],
    in2b: [H],
    task: [taskDim, H],
    taskb: [H],
    mpSelf: [H, H],
    mpNbr: [H, H],
    mpTask: [H, H],
    mpb: [H],
    tSelf: [H, H],
    tAgg: [H, H],
    tb: [H],
    gate: [H],
    gateb: [1],
    edge: [H, H],
    edgeb: [1],
  };
}

/** Initial gate bias: agents start mostly on, so training first learns what to drop. */
const INITIAL_GATE_BIAS = 1;

/** Glorot-uniform matrices, zero biases; deterministic in the seed. */
export function initWeights(nodeDim: number, taskDim: number, hidden: number, seed: string): TopologyWeights {
  const rng = new Rng(seed);
  const shapes = weightShapes(nodeDim, taskDim, hidden);
  const out = {} as TopologyWeights;
  for (const name of WEIGHT_NAMES) {
    const shape = shapes[name];
    const size = shape.reduce((a, b) => a * b, 1);
    let data: number[];
    if (shape.length === 2) {
      const lim = Math.sqrt(6 / (shape[0]! + shape[1]!)) * (name === 'edge' ? 0.5 : 1);
      data = Array.from({ length: size }, () => (2 * rng.next() - 1) * lim);
    } else if (name === 'gate') {
      data = Array.from({ length: size }, () => (2 * rng.next() - 1) * Math.sqrt(3 / size));
    } else {
      data = new Array<number>(size).fill(name === 'gateb' ? INITIAL_GATE_BIAS : 0);
    }
    out[name] = { shape, data };
  }
  return out;
}

/** x·W + b for row-major W of shape [in, out]. */
function affine(x: readonly number[], W: WeightTensor, b?: WeightTensor, acc?: number[]): number[] {
  const [nIn, nOut] = W.shape as [number, number];
  const out = acc ?? (b ? [...b.data] : new Array<number>(nOut).fill(0));
  const w = W.data;
  for (let i = 0; i < nIn; i++) {
    const xi = x[i]!;
    if (xi === 0) continue;
    const row = i * nOut;
    for (let j = 0; j < nOut; j++) out[j]! += xi * w[row + j]!;
  }
  return out;
}

const tanhAll = (v: number[]): number[] => v.map(Math.tanh);

export interface TopologyForward {
  /** Final agent representations per slot (empty for non-candidates). */
  h: number[][];
  /** Gate probability per slot (1 for the decision slot, 0 for non-candidates). */
  gate: number[];
  /** Edge probability [u][v] for u < v between candidates, else 0. */
  edge: number[][];
}

/**
 * Forward pass. `candidate[v]` marks slots that have a backbone (from matching); only they take
 * part in message passing. The decision slot is the last one.
 */
export function topologyForward(
  w: TopologyWeights,
  nodeInputs: readonly (readonly number[])[],
  taskIn: readonly number[],
  candidate: readonly boolean[],
  rounds: number,
): TopologyForward {
  const n = nodeInputs.length;
  const H = w.in1b.data.length;
  let h: number[][] = nodeInputs.map((x, v) =>
    candidate[v] ? tanhAll(affine(tanhAll(affine(x, w.in1, w.in1b)), w.in2, w.in2b)) : [],
  );
  let t = tanhAll(affine(taskIn, w.task, w.taskb));
  const idx = [...Array(n).keys()].filter((v) => candidate[v]);
  for (let r = 0; r < rounds; r++) {
    const m = new Array<number>(H).fill(0);
    for (const v of idx) for (let j = 0; j < H; j++) m[j]! += h[v]![j]! / idx.length;
    const shared = affine(t, w.mpTask, w.mpb, affine(m, w.mpNbr, w.mpb));
    // affine(m, mpNbr, mpb) seeded `shared` with mpb; affine(t, mpTask, ...) accumulates into it.
    h = h.map((hv, v) => (candidate[v] ? tanhAll(affine(hv, w.mpSelf, undefined, [...shared])) : []));
    t = tanhAll(affine(m, w.tAgg, undefined, affine(t, w.tSelf, w.tb)));
  }
  const gate = h.map((hv, v) => {
    if (!candidate[v]) return 0;
    if (v === n - 1) return 1;
    let z = w.gateb.data[0]!;
    for (let j = 0; j < H; j++) z += w.gate.data[j]! * hv[j]!;
    return sigmoid(z);
  });
  const edge = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const u of idx) {
    const hu = affine(h[u]!, w.edge); // h_uᵀ E
    for (const v of idx) {
      if (v <= u) continue;
      let z = w.edgeb.data[0]!;
      for (let j = 0; j < H; j++) z += hu[j]! * h[v]![j]!;
      edge[u]![v] = sigmoid(z);
    }
  }
  return { h, gate, edge };
}

/**
 * Deterministic decoding: agents whose gate passes the threshold (decision always), edges above
 * threshold between active agents, then every sink worker is wired to the decision agent so all
 * kept agents reach it.
 */
export function decodeTopology(base: DesignGraph, f: TopologyForward, gateThreshold: number, edgeThreshold: number): DesignGraph {
  const g = cloneGraph(base);
  const n = g.slots.length;
  g.adj = emptyAdjacency(n);
  for (let v = 0; v < n; v++) g.active[v] = base.active[v]! && (v === n - 1 || f.gate[v]! >= gateThreshold);
  for (let u = 0; u < n; u++)
    for (let v = u + 1; v < n; v++) g.adj[u]![v] = g.active[u]! && g.active[v]! && f.edge[u]![v]! >= edgeThreshold;
  pruneInactiveEdges(g);
  repairSinks(g);
  return g;
}
