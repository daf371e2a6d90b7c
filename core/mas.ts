import { z } from 'zod';
import { BackboneSchema } from './pool';
import { TaskSchema } from './task';

/** A positive, finite number: budgets of 0, NaN or Infinity are input errors, not "no budget". */
const positiveFinite = z.number().finite().positive();

const BudgetsSchema = z
  .object({
    /** Per-query token-cost budget in USD. Absent: unlimited. */
    maxCostUsd: positiveFinite.optional(),
    /** Per-query latency budget in (model) seconds. Absent: unlimited. */
    maxLatencyS: positiveFinite.optional(),
  })
  .strict();
export type Budgets = z.infer<typeof BudgetsSchema>;

const MasAgentSchema = z
  .object({
    id: z.string().min(1),
    /** Role id (see core/roles) or a free-form role name when `systemPrompt` is given. */
    role: z.string().min(1),
    /** Backbone id in the pool. */
    backbone: z.string().min(1),
    /** Overrides the role's persona prompt. */
    systemPrompt: z.string().optional(),
    /** Output-token cap before the ledger lowers it. */
    maxTokens: z.number().int().positive().optional(),
  })
  .strict();
export type MasAgent = z.infer<typeof MasAgentSchema>;

export const MasSpecSchema = z
  .object({
    agents: z.array(MasAgentSchema).min(1),
    /** Directed edges [from, to]: `to` receives `from`'s output. Must form a DAG. */
    edges: z.array(z.tuple([z.string(), z.string()])).default([]),
    /** The agent that produces the final answer. */
    decision: z.string().min(1),
  })
  .strict();
export type MasSpec = z.infer<typeof MasSpecSchema>;

export const SimulationOptionsSchema = z
  .object({
    /** Real seconds waited per simulated second; 0 makes campaigns fast (deadlines then use the modelled clock). */
    timeFactor: z.number().nonnegative().default(0),
    /** Probability per call of an injected 429 / transient 5xx. */
    rate429: z.number().min(0).max(1).default(0),
    rate5xx: z.number().min(0).max(1).default(0),
    seed: z.string().default('0'),
  })
  .strict();
export type SimulationOptions = z.infer<typeof SimulationOptionsSchema>;

export const RunMasInputSchema = z
  .object({
    /** The query text agents see. */
    query: z.string().min(1),
    /** The benchmark item, when the query comes from one: enables grading and the simulated pool. */
    task: TaskSchema.optional(),
    spec: MasSpecSchema,
    budgets: BudgetsSchema.default({}),
    /** The backbones the spec uses, resolved from the pool by the client (prices, latency models). */
    backbones: z.array(BackboneSchema).min(1),
    /** Persona prompt per role id, resolved by the client. */
    rolePrompts: z.record(z.string(), z.string()),
    simulation: SimulationOptionsSchema.optional(),
    /** The campaign method that planned this run: labels its metrics (absent for ad-hoc runs). */
    method: z.string().min(1).optional(),
    /**
     * Task queues of this run's activities, for workers a team set up itself (the worker plugin):
     * `main` for grading, `llm` for every model call. Absent: the product's own queues.
     */
    taskQueues: z.object({ main: z.string().min(1).optional(), llm: z.string().min(1).optional() }).strict().optional(),
  })
  .strict();
export type RunMasInput = z.input<typeof RunMasInputSchema>;
export type RunMasInputParsed = z.infer<typeof RunMasInputSchema>;

/** ApplicationFailure type of a classified provider error: raised by the model-call activity, read by runMas. */
export const CALL_FAILURE_TYPE = 'ProviderError';

export type AgentStatus = 'ok' | 'failed' | 'cancelled_deadline' | 'skipped_budget' | 'skipped_deadline' | 'skipped_upstream';

export interface AgentTrace {
  id: string;
  role: string;
  backbone: string;
  status: AgentStatus;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Call duration (model seconds). */
  latencyS: number;
  /** Modelled start and finish on the run's clock (model seconds since the run began). */
  startS: number;
  finishS: number;
  /** Output-token cap actually sent, after the ledger. */
  maxTokens: number;
  attempts: number;
  text?: string;
  error?: string;
}

export interface RunMasResult {
  answer: string;
  /** Graded against the task's answer key, when there is one. */
  correct?: boolean;
  costUsd: number;
  /** Critical-path latency of what ran (model seconds). */
  latencyS: number;
  deadlineHit: boolean;
  budgetExhausted: boolean;
  /**
   * Calls whose reported cost exceeded their ledger reservation (core/ledger.ts). Zero by
   * construction, so absent; present only if a provider counted more input tokens than the margin.
   */
  costOvershoots?: number;
  simulated: boolean;
  agents: AgentTrace[];
  topology: { agents: { id: string; role: string; backbone: string }[]; edges: [string, string][] };
}
