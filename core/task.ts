import { z } from 'zod';
import { BenchmarkIdSchema, DomainSchema } from './domain';

/**
 * What the grader needs to score an answer. It travels inside workflow inputs (no secrets, plain
 * JSON) so the simulated pool can produce real right/wrong text and graders can score it.
 */
const AnswerKeySchema = z.discriminatedUnion('kind', [
  /** GSM8K, SVAMP, MultiArith, sample-math: the final number. */
  z.object({ kind: z.literal('numeric'), value: z.string() }),
  /** MATH-500: a LaTeX answer, compared by answer equivalence. */
  z.object({ kind: z.literal('math'), value: z.string() }),
  /** MMLU, AQuA, sample-mc: the correct option letter and the option texts (A, B, ...). */
  z.object({ kind: z.literal('choice'), letter: z.string().regex(/^[A-J]$/), options: z.array(z.string()) }),
  /** HumanEval, MBPP, sample-code: python tests executed against the answer's code. */
  z.object({
    kind: z.literal('code'),
    language: z.literal('python'),
    /** Function the tests call. */
    entryPoint: z.string(),
    /** Python source that raises on failure, run after the candidate code (HumanEval `check(entry)` style included). */
    tests: z.string(),
    /** Code prepended to the candidate when the answer is a function body (HumanEval prompt), else ''. */
    prelude: z.string(),
    /** A known-good full solution, when the benchmark ships one. */
    canonical: z.string().optional(),
  }),
]);
export type AnswerKey = z.infer<typeof AnswerKeySchema>;

/** One benchmark item, normalised across benchmarks. */
export const TaskSchema = z.object({
  /** Stable id within its benchmark, e.g. `gsm8k/17`. */
  id: z.string().min(1),
  benchmark: BenchmarkIdSchema,
  domain: DomainSchema,
  /** The full text shown to agents (options included for multiple choice). */
  question: z.string().min(1),
  answer: AnswerKeySchema,
});
export type Task = z.infer<typeof TaskSchema>;
