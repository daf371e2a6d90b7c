import { z } from 'zod';
import { DomainSchema } from '../domain';
import { PEER_SWAY } from './predict';
import { EmbedderConfigSchema } from './embed';

/**
 * The versioned TrainedDesigner artifact: topology-policy weights as plain arrays (so inference is
 * a pure forward pass, no tensor library), the embedder and hyperparameters they were trained
 * with, the PoolProfile hash they were trained on, and the training curve. Backbones are not
 * named anywhere in it: a different profile (e.g. with an unseen backbone) can be used as is.
 */
export const TRAINED_DESIGNER_KIND = 'agentbalance.trained-designer';
/**
 * 2: query features and the hashed n-gram embedder bucket by core/random's hash32, so version-1
 * weights would read the wrong buckets; a saved version-1 designer is retrained, not trusted.
 */
export const TRAINED_DESIGNER_VERSION = 2;

const DesignerHyperSchema = z
  .object({
    hidden: z.number().int().positive().default(32),
    /** Message-passing rounds over agent nodes + task node (1–2). */
    rounds: z.number().int().min(0).max(3).default(2),
    gateThreshold: z.number().min(0).max(1).default(0.5),
    edgeThreshold: z.number().min(0).max(1).default(0.5),
    /** K of the k-medoids pool selection. */
    selectionK: z.number().int().positive().default(4),
    /** Matching utility of a full set of workers leaning right, relative to the decision agent's (1). */
    workerUtility: z.number().nonnegative().default(0.4),
    /** Matching penalties, per budget fraction used (dimensionless): a small preference for thrift. */
    matchLambdaC: z.number().nonnegative().default(0.05),
    matchLambdaL: z.number().nonnegative().default(0.05),
    /** Peer sway bounds of the accuracy surrogate (predict.ts). */
    peerSwayMin: z.number().nonnegative().default(PEER_SWAY.min),
    peerSwayMax: z.number().nonnegative().default(PEER_SWAY.max),
  })
  .strict();
export type DesignerHyper = z.infer<typeof DesignerHyperSchema>;
export const DEFAULT_HYPER: DesignerHyper = DesignerHyperSchema.parse({});

const range = z.tuple([z.number().positive(), z.number().positive()]);
/** Budget range in use per domain; budget features are log-positions inside it. */
const BudgetScaleSchema = z.object({ costUsd: range, latencyS: range }).strict();
export type BudgetScale = z.infer<typeof BudgetScaleSchema>;

const WeightTensorSchema = z
  .object({ shape: z.array(z.number().int().positive()), data: z.array(z.number()) })
  .strict()
  .refine((w) => w.shape.reduce((a, b) => a * b, 1) === w.data.length, 'data length must match shape');
export type WeightTensor = z.infer<typeof WeightTensorSchema>;

const TrainingPointSchema = z
  .object({
    step: z.number().int().nonnegative(),
    reward: z.number(),
    accuracy: z.number(),
    costRatio: z.number(),
    latencyRatio: z.number(),
    costViolation: z.number(),
    latencyViolation: z.number(),
    agents: z.number(),
    edges: z.number(),
    lambdaC: z.number(),
    lambdaL: z.number(),
  })
  .strict();
export type TrainingPoint = z.infer<typeof TrainingPointSchema>;

const TrainingInfoSchema = z
  .object({
    steps: z.number().int().nonnegative(),
    batch: z.number().int().positive(),
    learningRate: z.number().positive(),
    dualLearningRate: z.number().nonnegative(),
    rewardMode: z.enum(['sampled', 'expected']),
    rewardTarget: z.enum(['synthesized', 'raw']),
    penaltyTarget: z.enum(['synthesized', 'raw']),
    violationTolerance: z.number().nonnegative(),
    samplesPerEpisode: z.number().int().positive(),
    entropyBonus: z.number().nonnegative(),
    seed: z.string(),
    trainQueries: z.number().int().nonnegative(),
    wallS: z.number().nonnegative(),
    backend: z.string(),
  })
  .strict();

export const TrainedDesignerSchema = z
  .object({
    kind: z.literal(TRAINED_DESIGNER_KIND),
    version: z.literal(TRAINED_DESIGNER_VERSION),
    /** PoolProfile it was trained on (other profiles still work: backbones enter through φ). */
    profileHash: z.string(),
    embedder: EmbedderConfigSchema,
    hyper: DesignerHyperSchema,
    budgetScale: z.partialRecord(DomainSchema, BudgetScaleSchema),
    weights: z.record(z.string(), WeightTensorSchema),
    /** Final dual multipliers of the budget penalties. */
    lambdas: z.object({ cost: z.number().nonnegative(), latency: z.number().nonnegative() }).strict(),
    /** Absent for an untrained (initialised) designer. */
    training: TrainingInfoSchema.optional(),
    curve: z.array(TrainingPointSchema),
  })
  .strict();
export type TrainedDesigner = z.infer<typeof TrainedDesignerSchema>;
