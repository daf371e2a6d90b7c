/**
 * Roles per domain, kept as data (core/roles/<domain>.json) and validated here. Every role's
 * prompt is its persona plus the answer-format instruction of the benchmark, so whichever agent's
 * answer ends up graded (the decision agent's, or the best finished one at a deadline) is in a
 * form the grader reads.
 */
import { z } from 'zod';
import { BENCHMARK_DOMAIN, type BenchmarkId, type Domain } from './domain';
import codeJson from './roles/code.json';
import knowledgeJson from './roles/knowledge.json';
import mathJson from './roles/math.json';

const AnswerFormatKindSchema = z.enum(['numeric', 'math', 'choice', 'code']);
type AnswerFormatKind = z.infer<typeof AnswerFormatKindSchema>;

const RoleSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]*$/, 'role ids are lower_snake_case'),
    name: z.string().min(1),
    prompt: z.string().min(20),
  })
  .strict();

const RoleFileSchema = z
  .object({
    domain: z.enum(['math', 'knowledge', 'code']),
    roles: z.array(RoleSchema).min(1),
    decision: RoleSchema.refine((r) => r.prompt.includes('{format}'), {
      message: 'the decision prompt must contain {format}',
    }),
    answerFormats: z.partialRecord(AnswerFormatKindSchema, z.string().min(10)),
  })
  .strict()
  .superRefine((f, ctx) => {
    const ids = [...f.roles.map((r) => r.id), f.decision.id];
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', message: `duplicate role ids in ${f.domain}` });
  });
type RoleFile = z.infer<typeof RoleFileSchema>;

/** A role as the rest of the system sees it (matches the designer's RoleInfo). */
export interface Role {
  id: string;
  name: string;
  domain: Domain;
  /** Persona plus the answer-format instruction. */
  prompt: string;
}

function load(raw: unknown, domain: Domain): RoleFile {
  const parsed = RoleFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`core/roles/${domain}.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  if (parsed.data.domain !== domain) throw new Error(`core/roles/${domain}.json declares domain ${parsed.data.domain}`);
  return parsed.data;
}

const FILES: Readonly<Record<Domain, RoleFile>> = {
  math: load(mathJson, 'math'),
  knowledge: load(knowledgeJson, 'knowledge'),
  code: load(codeJson, 'code'),
};

/** The benchmark whose format a domain uses when none is named. */
const DEFAULT_BENCHMARK: Readonly<Record<Domain, BenchmarkId>> = { math: 'gsm8k', knowledge: 'mmlu', code: 'humaneval' };

/** What kind of final answer each benchmark's grader reads. */
const BENCHMARK_ANSWER_KIND: Readonly<Record<BenchmarkId, AnswerFormatKind>> = {
  gsm8k: 'numeric',
  svamp: 'numeric',
  multiarith: 'numeric',
  'sample-math': 'numeric',
  math500: 'math',
  aqua: 'choice',
  mmlu: 'choice',
  'sample-mc': 'choice',
  humaneval: 'code',
  mbpp: 'code',
  'sample-code': 'code',
};

export const DECISION_ROLE_ID = 'decision';

/** The instruction stating the final-answer format the benchmark's grader expects. */
export function answerFormatInstruction(domain: Domain, benchmark?: BenchmarkId): string {
  const b = benchmark ?? DEFAULT_BENCHMARK[domain];
  if (BENCHMARK_DOMAIN[b] !== domain) throw new Error(`benchmark ${b} belongs to domain ${BENCHMARK_DOMAIN[b]}, not ${domain}`);
  const kind = BENCHMARK_ANSWER_KIND[b];
  const text = FILES[domain].answerFormats[kind];
  if (text === undefined) throw new Error(`core/roles/${domain}.json has no answer format for ${kind} answers (${b})`);
  return text;
}

function withFormat(prompt: string, format: string, isDecision: boolean): string {
  return isDecision ? prompt.replace('{format}', format) : `${prompt}\n\n${format}`;
}

/** The domain's worker roles (the decision role not included), in their fixed order. */
export function rolesFor(domain: Domain, benchmark?: BenchmarkId): Role[] {
  const format = answerFormatInstruction(domain, benchmark);
  return FILES[domain].roles.map((r) => ({ id: r.id, name: r.name, domain, prompt: withFormat(r.prompt, format, false) }));
}

/** The decision agent that aggregates the others' messages into the final answer. */
export function decisionRole(domain: Domain, benchmark?: BenchmarkId): Role {
  const d = FILES[domain].decision;
  return { id: d.id, name: d.name, domain, prompt: withFormat(d.prompt, answerFormatInstruction(domain, benchmark), true) };
}

/** Role ids of a domain, decision last. */
function roleIds(domain: Domain): string[] {
  return [...FILES[domain].roles.map((r) => r.id), FILES[domain].decision.id];
}

/** The full prompt of one role (worker or decision); throws for an unknown role id. */
export function rolePrompt(domain: Domain, roleId: string, benchmark?: BenchmarkId): string {
  const file = FILES[domain];
  if (roleId === file.decision.id) return decisionRole(domain, benchmark).prompt;
  const role = file.roles.find((r) => r.id === roleId);
  if (!role) throw new Error(`unknown role ${JSON.stringify(roleId)} in domain ${domain}; known: ${roleIds(domain).join(', ')}`);
  return withFormat(role.prompt, answerFormatInstruction(domain, benchmark), false);
}

/** Persona prompts of every role of a domain, keyed by role id (the shape RunMasInput.rolePrompts takes). */
export function rolePrompts(domain: Domain, benchmark?: BenchmarkId): Record<string, string> {
  return Object.fromEntries(roleIds(domain).map((id) => [id, rolePrompt(domain, id, benchmark)]));
}
