import * as tf from '@tensorflow/tfjs';
import type { Domain } from '../core/domain';
import { sigmoid } from '../core/estimate';
import type { Budgets } from '../core/mas';
import {
  createInitialDesigner,
  designerWeights,
  orderSlots,
  prepareDesign,
  type PreparedDesign,
  type RoleInfo,
} from '../core/designer/designer';
import { fitHashedIdf, type EmbedderConfig } from '../core/designer/embed';
import { nodeInputDim, taskInputDim } from '../core/designer/features';
import type { MatchingSolver } from '../core/designer/matching';
import { parsePoolProfile, predictDifficulty, type PoolProfile } from '../core/profiling/pool-profile';
import { cloneGraph, emptyAdjacency, predictMas, repairSinks, type TokenCounter } from '../core/designer/predict';
import { synthesize } from '../core/designer/synthesis';
import { Rng } from '../core/random';
import { WEIGHT_NAMES, weightShapes, type WeightName } from '../core/designer/topology';
import {
  TrainedDesignerSchema,
  type BudgetScale,
  type DesignerHyper,
  type TrainedDesigner,
  type TrainingPoint,
} from '../core/designer/trained-designer';
import { embedderFromConfig } from './embedders';
import { createHighsMatchingSolver } from './matching-solver';

/**
 * Trains the topology policy (docs/METHOD.md §2.4): REINFORCE with a baseline over
 * training queries, budgets sampled log-uniformly from the range in use, reward
 *   R = correct − λ_C·max(0, C/B_C − 1) − λ_L·max(0, L/B_L − 1)
 * and dual ascent on λ (raised while the mean violation exceeds a tolerance, lowered otherwise).
 * Each episode samples several topologies; the baseline of one is the mean reward of the others
 * (leave-one-out), so advantages compare topologies for the same query, budgets and matching.
 *
 * The environment is a fast surrogate, not the engine: for a sampled MAS, cost and latency are
 * the profile's predictions and correctness is drawn from the accuracy surrogate of predict.ts
 * (decision-agent IRT ability plus a bounded peer bonus from correct-leaning predecessors), or is
 * that probability itself with rewardMode 'expected'. The real engine is used for evaluation.
 * Which MAS the reward scores is configurable. Default: the sampled topology after the
 * inference-time synthesis, i.e. what would be deployed, for correctness and penalties alike.
 * Penalising the raw sample (`penaltyTarget: 'raw'`, the policy then learns to fit budgets by
 * itself) made the policy drop every worker on the sim-14/GSM8K bench, since raw samples overshoot
 * and synthesis would have trimmed them for free: predicted cost-AUC 0.8922 (= best single agent)
 * vs 0.8949 with the default (bench/designer.ts, 200 steps). With the default, λ only bites on
 * episodes synthesis cannot fit and decays towards 0 otherwise; with 'raw' it settles where the
 * mean overshoot equals `violationTolerance`.
 * `rewardMode: 'expected'` (default) uses the surrogate probability itself instead of a Bernoulli
 * draw (same expectation, less variance); with draws, the +0.01-scale accuracy differences between
 * topologies were lost in the noise within a few hundred steps.
 * The tfjs graph mirrors core/designer/topology.ts op for op (tested), on the pure-JS CPU backend.
 */

interface TrainingQuery {
  text: string;
  domain: Domain;
  /** Known IRT difficulty (profiled item); default b̂(q) from the profile's regressor. */
  difficulty?: number;
}

interface DomainRoles {
  /** Worker roles in their fixed order (core/roles `rolesFor`), or all roles with `decisionRole` an id. */
  roles: RoleInfo[];
  /** The decision role (core/roles `decisionRole`), or the id of one of `roles`. */
  decisionRole: RoleInfo | string;
}

export interface TrainingOptions {
  steps: number;
  /** Episodes (query, budgets, matching) per step. */
  batch: number;
  /** Topologies sampled per episode; their leave-one-out mean is the baseline. */
  samplesPerEpisode: number;
  learningRate: number;
  dualLearningRate: number;
  initialLambdas: { cost: number; latency: number };
  /** Dual ascent target: mean relative overshoot tolerated before λ rises. */
  violationTolerance: number;
  maxLambda: number;
  rewardMode: 'sampled' | 'expected';
  /**
   * Whose correctness the reward counts: 'synthesized' (default) the sampled topology after the
   * inference-time synthesis, i.e. what would be deployed; 'raw' the sample itself. The budget
   * penalties score the MAS that `penaltyTarget` names.
   */
  rewardTarget: 'synthesized' | 'raw';
  /** Whose cost and latency the budget penalties score (see rewardTarget). */
  penaltyTarget: 'synthesized' | 'raw';
  entropyBonus: number;
  /** Probability that an episode has no cost (resp. latency) budget. */
  pAbsentBudget: number;
  seed: string;
  hyper: Partial<DesignerHyper>;
  /** Default: hashed n-gram (dim 64) with IDF fitted on the training queries and role prompts. */
  embedder?: EmbedderConfig;
  /** Budget range per domain; default derived from the profile (designer.defaultBudgetScale). */
  budgetScale?: Partial<Record<Domain, BudgetScale>>;
  curveEvery: number;
}

const DEFAULT_TRAINING: TrainingOptions = {
  steps: 300,
  batch: 16,
  samplesPerEpisode: 4,
  learningRate: 0.01,
  dualLearningRate: 0.5,
  initialLambdas: { cost: 1, latency: 1 },
  violationTolerance: 0.01,
  maxLambda: 20,
  rewardMode: 'expected',
  rewardTarget: 'synthesized',
  penaltyTarget: 'synthesized',
  entropyBonus: 0.001,
  pAbsentBudget: 0.1,
  seed: 'train-0',
  hyper: {},
  curveEvery: 10,
};

export interface TrainDesignerInput {
  profile: PoolProfile;
  roles: Partial<Record<Domain, DomainRoles>>;
  queries: TrainingQuery[];
  options?: Partial<TrainingOptions>;
}

export interface TrainingProgress {
  step: number;
  steps: number;
  point?: TrainingPoint;
}

export interface TrainDeps {
  /** Default: HiGHS (activities/matching-solver.ts). */
  solver?: MatchingSolver;
  countTokens?: TokenCounter;
  /** Called every step; the activity heartbeats through it. */
  onProgress?: (p: TrainingProgress) => void | Promise<void>;
}

/** tfjs variable names are global per process; a counter keeps repeated trainings apart. */
let step0 = 0;

let backendReady: Promise<void> | undefined;

/** Pure-JS CPU backend; its one-time "install tfjs-node" notice is silenced. */
function ensureBackend(): Promise<void> {
  backendReady ??= (async () => {
    const warn = console.warn;
    console.warn = () => {};
    try {
      await tf.setBackend('cpu');
      await tf.ready();
      tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(1)).dataSync());
    } finally {
      console.warn = warn;
    }
  })();
  return backendReady;
}

type Vars = Record<WeightName, tf.Variable>;

interface Episode {
  prep: PreparedDesign;
  budgets: Budgets;
}

function sampleBudgets(rng: Rng, scale: BudgetScale, pAbsent: number): Budgets {
  const b: Budgets = {};
  if (rng.next() >= pAbsent) b.maxCostUsd = rng.logUniform(scale.costUsd[0], scale.costUsd[1]);
  if (rng.next() >= pAbsent) b.maxLatencyS = rng.logUniform(scale.latencyS[0], scale.latencyS[1]);
  return b;
}

/** Batched forward of the policy: gate logits [B,N] and edge logits [B,N,N]. */
function forward(
  v: Record<WeightName, tf.Tensor>,
  X: tf.Tensor2D,
  T: tf.Tensor2D,
  cand: tf.Tensor2D,
  B: number,
  N: number,
  H: number,
  rounds: number,
): { gate: tf.Tensor2D; edge: tf.Tensor3D } {
  const mask3 = tf.reshape(cand, [B, N, 1]);
  const count = tf.maximum(tf.sum(cand, 1, true), 1);
  let h = tf.tanh(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(X, v.in1), v.in1b)), v.in2), v.in2b)) as tf.Tensor2D;
  let t = tf.tanh(tf.add(tf.matMul(T, v.task), v.taskb)) as tf.Tensor2D;
  for (let r = 0; r < rounds; r++) {
    const m = tf.div(tf.sum(tf.mul(tf.reshape(h, [B, N, H]), mask3), 1), count) as tf.Tensor2D;
    const shared = tf.add(tf.add(tf.matMul(m, v.mpNbr), v.mpb), tf.matMul(t, v.mpTask));
    const self = tf.reshape(tf.matMul(h, v.mpSelf), [B, N, H]);
    h = tf.reshape(tf.tanh(tf.add(self, tf.reshape(shared, [B, 1, H]))), [B * N, H]);
    t = tf.tanh(tf.add(tf.add(tf.matMul(t, v.tSelf), v.tb), tf.matMul(m, v.tAgg))) as tf.Tensor2D;
  }
  const gate = tf.reshape(tf.add(tf.matMul(h, tf.reshape(v.gate, [H, 1])), v.gateb), [B, N]) as tf.Tensor2D;
  const hE = tf.reshape(tf.matMul(h, v.edge), [B, N, H]);
  const edge = tf.add(tf.matMul(hE, tf.reshape(h, [B, N, H]), false, true), v.edgeb) as tf.Tensor3D;
  return { gate, edge };
}

/** Bernoulli log-probability of action a under logit z: a·z − softplus(z). */
function bernoulliLogProb(z: tf.Tensor, a: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(a, z), tf.softplus(z));
}

function bernoulliEntropy(z: tf.Tensor): tf.Tensor {
  return tf.sub(tf.softplus(z), tf.mul(z, tf.sigmoid(z)));
}

/** Edge probabilities [u][v] of episode b from the flat logits [B, N, N]. */
function edgeRows(ez: ArrayLike<number>, b: number, N: number, n: number): number[][] {
  return Array.from({ length: n }, (_, u) =>
    Array.from({ length: n }, (_, v) => (v > u ? sigmoid(ez[b * N * N + u * N + v]!) : 0)),
  );
}

/** Forward of the tfjs graph on given weights, for the parity test with the pure forward pass. */
export async function tfPolicyProbabilities(
  designer: TrainedDesigner,
  prep: PreparedDesign,
): Promise<{ gate: number[]; edge: number[][] }> {
  await ensureBackend();
  const N = prep.slots.length;
  const H = designer.hyper.hidden;
  return tf.tidy(() => {
    const w = designerWeights(designer);
    const vars = Object.fromEntries(WEIGHT_NAMES.map((n) => [n, tf.tensor(w[n].data, w[n].shape)])) as Record<
      WeightName,
      tf.Tensor
    >;
    const Din = nodeInputDim(designer.embedder.dim);
    const X = tf.tensor2d(
      prep.nodeInputs.flatMap((x) => (x.length ? x : new Array<number>(Din).fill(0))),
      [N, Din],
    );
    const T = tf.tensor2d([prep.taskInput]);
    const cand = tf.tensor2d([prep.candidate.map((c) => (c ? 1 : 0))]);
    const { gate, edge } = forward(vars, X, T, cand, 1, N, H, designer.hyper.rounds);
    const g = Array.from(gate.dataSync()).map(sigmoid);
    const e = Array.from(edge.dataSync()).map(sigmoid);
    return { gate: g, edge: Array.from({ length: N }, (_, u) => e.slice(u * N, (u + 1) * N)) };
  });
}

export async function trainDesigner(input: TrainDesignerInput, deps: TrainDeps = {}): Promise<TrainedDesigner> {
  const started = performance.now();
  const opt: TrainingOptions = { ...DEFAULT_TRAINING, ...(input.options ?? {}) };
  const profile = parsePoolProfile(input.profile);
  if (input.queries.length === 0) throw new Error('trainDesigner: no training queries');
  await ensureBackend();
  const solver = deps.solver ?? (await createHighsMatchingSolver());
  const rng = new Rng(opt.seed);

  const domains = [...new Set(input.queries.map((q) => q.domain))];
  for (const d of domains) if (!input.roles[d]) throw new Error(`trainDesigner: no roles for domain ${d}`);
  const rolePrompts = domains.flatMap((d) => {
    const dr = input.roles[d]!;
    return [...dr.roles.map((r) => r.prompt), ...(typeof dr.decisionRole === 'string' ? [] : [dr.decisionRole.prompt])];
  });
  const embedCfg: EmbedderConfig = opt.embedder ?? {
    kind: 'hashed-ngram',
    dim: 64,
    idf: fitHashedIdf([...input.queries.map((q) => q.text), ...rolePrompts], 64),
  };
  const embedder = embedderFromConfig(embedCfg);
  await embedder.prepare([...input.queries.map((q) => q.text), ...rolePrompts]);

  let designer = createInitialDesigner({ profile, embedder: embedCfg, hyper: opt.hyper, seed: `${opt.seed}/init` });
  const hyper = designer.hyper;
  // Budget range per domain: given, or derived from the profile on a typical query.
  const budgetScale: Partial<Record<Domain, BudgetScale>> = { ...(opt.budgetScale ?? {}) };
  for (const d of domains) {
    if (budgetScale[d]) continue;
    const q = input.queries.find((x) => x.domain === d)!;
    budgetScale[d] = prepareDesign({ ...baseRequest(q), budgets: {} }).scale;
  }
  designer = { ...designer, budgetScale };

  const H = hyper.hidden;
  const Din = nodeInputDim(embedCfg.dim);
  const Dt = taskInputDim(embedCfg.dim);
  const N = Math.max(...domains.map((d) => orderSlots(input.roles[d]!.roles, input.roles[d]!.decisionRole).length));
  const shapes = weightShapes(Din, Dt, H);
  const init = designerWeights(designer);
  const vars = Object.fromEntries(
    WEIGHT_NAMES.map((n) => [n, tf.variable(tf.tensor(init[n].data, shapes[n]), true, `designer/${n}/${step0++}`)]),
  ) as Vars;
  const optimizer = tf.train.adam(opt.learningRate);
  const lambdas = { ...opt.initialLambdas };
  const curve: TrainingPoint[] = [];
  const window: TrainingPoint[] = [];

  function baseRequest(q: TrainingQuery) {
    return {
      query: q.text,
      domain: q.domain,
      designer,
      profile,
      roles: input.roles[q.domain]!.roles,
      decisionRole: input.roles[q.domain]!.decisionRole,
      embedder,
      solver,
      ...(deps.countTokens ? { countTokens: deps.countTokens } : {}),
      difficulty: q.difficulty ?? predictDifficulty(profile.difficultyRegressor, q.text, q.domain),
    };
  }

  for (let step = 0; step < opt.steps; step++) {
    // Episodes: a query, budgets, and the deterministic Stage-1 outcome (selection + matching).
    const episodes: Episode[] = [];
    while (episodes.length < opt.batch) {
      const q = input.queries[rng.int(input.queries.length)]!;
      const budgets = sampleBudgets(rng, budgetScale[q.domain]!, opt.pAbsentBudget);
      const prep = prepareDesign({ ...baseRequest(q), budgets });
      if (prep.matching.status !== 'optimal') continue; // infeasible budgets: nothing to learn
      episodes.push({ prep, budgets });
    }
    const B = episodes.length;
    const X = tf.tensor2d(
      episodes
        .flatMap((e) =>
          Array.from({ length: N }, (_, v) =>
            e.prep.nodeInputs[v]?.length ? e.prep.nodeInputs[v]! : new Array<number>(Din).fill(0),
          ),
        )
        .flat(),
      [B * N, Din],
    );
    const T = tf.tensor2d(
      episodes.flatMap((e) => e.prep.taskInput),
      [B, Dt],
    );
    const candArr = episodes.flatMap((e) => Array.from({ length: N }, (_, v) => (e.prep.candidate[v] ? 1 : 0)));
    const cand = tf.tensor2d(candArr, [B, N]);

    const S = opt.samplesPerEpisode;
    const BS = B * S;
    const stats = {
      reward: 0,
      accuracy: 0,
      costRatio: 0,
      latencyRatio: 0,
      costViol: 0,
      latViol: 0,
      nC: 0,
      nL: 0,
      agents: 0,
      edges: 0,
    };
    optimizer.minimize(() => {
      const { gate, edge } = forward(vars, X, T, cand, B, N, H, hyper.rounds);
      const gz = gate.dataSync();
      const ez = edge.dataSync();
      // Actions and masks per sample: [B, S, N] for gates, [B, S, N, N] for edges.
      const gateAct = new Float32Array(BS * N);
      const gateMask = new Float32Array(BS * N);
      const edgeAct = new Float32Array(BS * N * N);
      const edgeMask = new Float32Array(BS * N * N);
      // Entropy is taken over every policy decision available to the episode.
      const gateAvail = new Float32Array(B * N);
      const edgeAvail = new Float32Array(B * N * N);
      const rewards: number[] = new Array<number>(BS).fill(0);
      episodes.forEach((e, b) => {
        const n = e.prep.slots.length;
        for (let v = 0; v < n - 1; v++) if (e.prep.candidate[v]) gateAvail[b * N + v] = 1;
        for (let u = 0; u < n; u++)
          for (let v = u + 1; v < n; v++) if (e.prep.candidate[u] && e.prep.candidate[v]) edgeAvail[b * N * N + u * N + v] = 1;
        for (let smp = 0; smp < S; smp++) {
          const row = b * S + smp;
          const g = cloneGraph(e.prep.base);
          g.adj = emptyAdjacency(n);
          for (let v = 0; v < n - 1; v++) {
            // The decision agent (slot n-1) is always on and not a policy action.
            if (!e.prep.candidate[v]) continue;
            const on = rng.bernoulli(sigmoid(gz[b * N + v]!));
            g.active[v] = on;
            gateAct[row * N + v] = on ? 1 : 0;
            gateMask[row * N + v] = 1;
          }
          for (let u = 0; u < n; u++) {
            for (let v = u + 1; v < n; v++) {
              if (!g.active[u] || !g.active[v]) continue;
              const on = rng.bernoulli(sigmoid(ez[b * N * N + u * N + v]!));
              g.adj[u]![v] = on;
              edgeAct[row * N * N + u * N + v] = on ? 1 : 0;
              edgeMask[row * N * N + u * N + v] = 1;
            }
          }
          repairSinks(g);
          const raw = predictMas(g, e.prep.ctx);
          // The deployed MAS: the sample after the inference-time synthesis.
          const deployed =
            opt.rewardTarget === 'raw' && opt.penaltyTarget === 'raw'
              ? raw
              : synthesize({
                  graph: g,
                  ctx: e.prep.ctx,
                  budgets: e.budgets,
                  gate: Array.from(gz.slice(b * N, b * N + n), sigmoid),
                  edge: edgeRows(ez, b, N, n),
                  pool: e.prep.pool,
                }).prediction;
          const acc = opt.rewardTarget === 'synthesized' ? deployed.accuracy : raw.accuracy;
          const p = opt.penaltyTarget === 'synthesized' ? deployed : raw;
          const correct = opt.rewardMode === 'expected' ? acc : rng.bernoulli(acc) ? 1 : 0;
          let r = correct;
          if (e.budgets.maxCostUsd !== undefined) {
            const ratio = p.costUsd / e.budgets.maxCostUsd;
            r -= lambdas.cost * Math.max(0, ratio - 1);
            stats.costRatio += ratio;
            stats.costViol += Math.max(0, ratio - 1);
            stats.nC++;
          }
          if (e.budgets.maxLatencyS !== undefined) {
            const ratio = p.latencyS / e.budgets.maxLatencyS;
            r -= lambdas.latency * Math.max(0, ratio - 1);
            stats.latencyRatio += ratio;
            stats.latViol += Math.max(0, ratio - 1);
            stats.nL++;
          }
          rewards[row] = r;
          stats.reward += r / BS;
          stats.accuracy += acc / BS;
          stats.agents += g.active.filter(Boolean).length / BS;
          let ne = 0;
          for (let u = 0; u < n; u++) for (let v = u + 1; v < n; v++) if (g.adj[u]![v] && g.active[u] && g.active[v]) ne++;
          stats.edges += ne / BS;
        }
      });
      // Leave-one-out baseline within each episode (same query, budgets and matching): the
      // advantage compares topologies for the same situation, which removes most variance.
      const adv = rewards.map((r, row) => {
        if (S === 1) return r - rewards.reduce((a, x) => a + x, 0) / BS;
        const b0 = Math.floor(row / S) * S;
        let sum = 0;
        for (let k = b0; k < b0 + S; k++) sum += rewards[k]!;
        return r - (sum - r) / (S - 1);
      });
      const gz4 = tf.reshape(gate, [B, 1, N]);
      const ez4 = tf.reshape(edge, [B, 1, N, N]);
      const logp = tf.add(
        tf.sum(tf.mul(bernoulliLogProb(gz4, tf.tensor3d(gateAct, [B, S, N])), tf.tensor3d(gateMask, [B, S, N])), 2),
        tf.sum(tf.mul(bernoulliLogProb(ez4, tf.tensor4d(edgeAct, [B, S, N, N])), tf.tensor4d(edgeMask, [B, S, N, N])), [2, 3]),
      );
      const entropy = tf.add(
        tf.sum(tf.mul(bernoulliEntropy(gate), tf.tensor2d(gateAvail, [B, N]))),
        tf.sum(tf.mul(bernoulliEntropy(edge), tf.tensor3d(edgeAvail, [B, N, N]))),
      );
      const pg = tf.neg(tf.mean(tf.mul(tf.tensor2d(adv, [B, S]), logp)));
      return tf.sub(pg, tf.mul(opt.entropyBonus / B, entropy)) as tf.Scalar;
    });
    tf.dispose([X, T, cand]);

    // Dual ascent: λ rises while the mean overshoot exceeds the tolerance, and relaxes otherwise.
    const meanCV = stats.nC ? stats.costViol / stats.nC : 0;
    const meanLV = stats.nL ? stats.latViol / stats.nL : 0;
    lambdas.cost = Math.min(opt.maxLambda, Math.max(0, lambdas.cost + opt.dualLearningRate * (meanCV - opt.violationTolerance)));
    lambdas.latency = Math.min(
      opt.maxLambda,
      Math.max(0, lambdas.latency + opt.dualLearningRate * (meanLV - opt.violationTolerance)),
    );

    const point: TrainingPoint = {
      step,
      reward: stats.reward,
      accuracy: stats.accuracy,
      costRatio: stats.nC ? stats.costRatio / stats.nC : 0,
      latencyRatio: stats.nL ? stats.latencyRatio / stats.nL : 0,
      costViolation: meanCV,
      latencyViolation: meanLV,
      agents: stats.agents,
      edges: stats.edges,
      lambdaC: lambdas.cost,
      lambdaL: lambdas.latency,
    };
    window.push(point);
    if (window.length === opt.curveEvery || step === opt.steps - 1) {
      const avg = (k: keyof TrainingPoint): number => window.reduce((s, p) => s + p[k], 0) / window.length;
      curve.push({
        step,
        reward: avg('reward'),
        accuracy: avg('accuracy'),
        costRatio: avg('costRatio'),
        latencyRatio: avg('latencyRatio'),
        costViolation: avg('costViolation'),
        latencyViolation: avg('latencyViolation'),
        agents: avg('agents'),
        edges: avg('edges'),
        lambdaC: lambdas.cost,
        lambdaL: lambdas.latency,
      });
      window.length = 0;
    }
    if (deps.onProgress) await deps.onProgress({ step: step + 1, steps: opt.steps, point });
  }

  const weights = Object.fromEntries(WEIGHT_NAMES.map((n) => [n, { shape: shapes[n], data: Array.from(vars[n].dataSync()) }]));
  Object.values(vars).forEach((x) => x.dispose());
  optimizer.dispose();
  return TrainedDesignerSchema.parse({
    ...designer,
    weights,
    lambdas,
    training: {
      steps: opt.steps,
      batch: opt.batch,
      learningRate: opt.learningRate,
      dualLearningRate: opt.dualLearningRate,
      rewardMode: opt.rewardMode,
      rewardTarget: opt.rewardTarget,
      penaltyTarget: opt.penaltyTarget,
      violationTolerance: opt.violationTolerance,
      samplesPerEpisode: opt.samplesPerEpisode,
      entropyBonus: opt.entropyBonus,
      seed: opt.seed,
      trainQueries: input.queries.length,
      wallS: (performance.now() - started) / 1000,
      backend: tf.getBackend(),
    },
    curve,
  });
}
