import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { BenchmarkIdSchema, BENCHMARK_DOMAIN, DomainSchema, type BenchmarkId, type Domain } from '../core/domain';
import { MasSpecSchema, RunMasInputSchema, type Budgets, type MasSpec, type RunMasInput, type SimulationOptions } from '../core/mas';
import type { PoolFile } from '../core/pool-file';
import type { Task } from '../core/task';
import { DECISION_ROLE_ID, rolePrompts, rolesFor } from '../core/roles';
import { loadBenchmark } from '../activities/datasets';
import { UserError } from './errors';
import { kib, LIMITS } from './options';
import { validateSpec } from '../core/dag';

/** A MAS spec file: the spec plus the pool it draws on and the domain of its role prompts. */
const SpecFileSchema = MasSpecSchema.extend({
  pool: z.string().optional(),
  domain: DomainSchema.optional(),
});
export type SpecFile = z.infer<typeof SpecFileSchema>;

export async function readSpecFile(file: string): Promise<SpecFile> {
  let text: string;
  try {
    // Size first: a huge file is refused without reading it.
    const size = (await stat(file)).size;
    if (size > LIMITS.specFileBytes) throw new UserError(`--spec ${file}: the file is ${kib(size)}, over the ${kib(LIMITS.specFileBytes)} limit`);
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`--spec ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`--spec ${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = SpecFileSchema.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError(`--spec ${file}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const big = parsed.data.agents.find((a) => a.systemPrompt !== undefined && Buffer.byteLength(a.systemPrompt, 'utf8') > LIMITS.textBytes);
  if (big) throw new UserError(`--spec ${file}: agents.${big.id}.systemPrompt is over the ${kib(LIMITS.textBytes)} limit`);
  return parsed.data;
}

/**
 * The MAS a newcomer gets with no configuration: two cheap workers of the domain's first roles
 * feeding a mid-priced decision agent, all from the default simulated pool.
 */
export function defaultMas(domain: Domain): MasSpec {
  const [r1, r2] = rolesFor(domain);
  return {
    agents: [
      { id: r1!.id, role: r1!.id, backbone: 'gpt-4.1-nano' },
      { id: r2!.id, role: r2!.id, backbone: 'llama-3.1-8b' },
      { id: DECISION_ROLE_ID, role: DECISION_ROLE_ID, backbone: 'gpt-4o-mini' },
    ],
    edges: [
      [r1!.id, DECISION_ROLE_ID],
      [r2!.id, DECISION_ROLE_ID],
    ],
    decision: DECISION_ROLE_ID,
  };
}

export async function loadTask(
  benchmark: string,
  index: number,
  dataPath?: string,
  opts: { skipBad?: boolean } = {},
): Promise<Task> {
  const id = BenchmarkIdSchema.safeParse(benchmark);
  if (!id.success) throw new UserError(`--benchmark: unknown value "${benchmark}"; allowed: ${BenchmarkIdSchema.options.join(', ')}`);
  const loaded = await loadBenchmark(id.data, dataPath, { skipBad: opts.skipBad ?? false });
  reportSkipped(benchmark, loaded);
  const { tasks } = loaded;
  const task = tasks[index];
  if (!Number.isInteger(index) || index < 0 || !task) {
    throw new UserError(`--index: must be an integer in 0..${tasks.length - 1} for ${benchmark} (got ${index})`);
  }
  return task;
}

/** One stderr line when --skip-bad-records skipped anything. */
export function reportSkipped(benchmark: string, loaded: { skipped: number; skippedReasons: readonly string[] }): void {
  if (loaded.skipped === 0) return;
  process.stderr.write(`agentbalance: ${benchmark}: skipped ${loaded.skipped} bad record(s) (--skip-bad-records); first ${loaded.skippedReasons[0] ?? ''}\n`);
}

/** Assembles a runMas input: the backbones the spec uses and every role prompt it needs. */
export function buildRunInput(args: {
  pool: PoolFile;
  spec: MasSpec;
  query: string;
  task?: Task;
  domain: Domain;
  benchmark?: BenchmarkId;
  budgets: Budgets;
  simulation: SimulationOptions;
}): RunMasInput {
  const byId = new Map(args.pool.backbones.map((b) => [b.id, b]));
  const missing = args.spec.agents.filter((a) => !byId.has(a.backbone)).map((a) => a.backbone);
  if (missing.length > 0) {
    throw new UserError(`backbone(s) ${[...new Set(missing)].join(', ')} not in pool ${args.pool.name}; see \`agentbalance pool list\``);
  }
  // The workflow validates too; checking here reports a bad spec before any server starts.
  validateSpec(args.spec, new Set(byId.keys()));
  const used = [...new Set(args.spec.agents.map((a) => a.backbone))].map((id) => byId.get(id)!);
  const input: RunMasInput = {
    query: args.query,
    ...(args.task ? { task: args.task } : {}),
    spec: args.spec,
    budgets: args.budgets,
    backbones: used,
    rolePrompts: rolePrompts(args.domain, args.benchmark),
    simulation: args.simulation,
  };
  // The workflow's own input checks, here too, so they are one line before any server starts.
  const noPrompt = args.spec.agents.filter((a) => a.systemPrompt === undefined && input.rolePrompts[a.role] === undefined);
  if (noPrompt.length > 0) {
    throw new UserError(
      `spec: no prompt for role(s) ${noPrompt.map((a) => `"${a.role}" (agent "${a.id}")`).join(', ')} in the ${args.domain} domain; give the agent a systemPrompt or use one of ${Object.keys(input.rolePrompts).join(', ')}`,
    );
  }
  const parsed = RunMasInputSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UserError(`invalid run input: ${i.path.join('.') || '(input)'}: ${i.message}`);
  }
  return input;
}

export function domainOf(benchmark: BenchmarkId | undefined, fallback: Domain): Domain {
  return benchmark ? BENCHMARK_DOMAIN[benchmark] : fallback;
}
