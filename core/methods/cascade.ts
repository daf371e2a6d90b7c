/**
 * `cascade` — FrugalGPT-style LLM cascade (Chen, Zaharia, Zou, 2023): query the backbones from
 * cheapest to strongest and stop as soon as an answer is judged reliable. FrugalGPT learns a
 * scoring model for that judgement and optimises the stage list on training data; this
 * reproduction uses a training-free acceptance rule and a planned stage list:
 *   - stages: the last stage is the most able backbone whose single call fits the budgets; in front
 *     of it up to MAX_STAGES − 1 cheaper and less able backbones from the (predicted single-call
 *     cost ↑, ability ↑) Pareto frontier, cheapest first, while the worst case still fits;
 *   - acceptance (run by workflows/campaign.ts): every stage but the last runs two independent
 *     samples of its single-agent spec in parallel; if the two answers agree (after the benchmark
 *     grader's normalisation) the answer is accepted and the cascade stops, otherwise the next stage
 *     runs; the last stage runs once and is accepted;
 *   - budgets are planned for the worst case (every stage runs): Ĉ = 2·Σ_{i<k} c_i + c_k,
 *     L̂ = Σ_i ℓ_i (the two samples of a stage run in parallel).
 */
import type { MasSpec } from '../mas';
import type { Backbone } from '../pool';
import type { MethodContext, MethodPlan } from './types';
import { abilityOf, assignAll, fitsBudgets, overrun, predictSpec, rolePromptsFor, type Topology } from './util';

const MAX_STAGES = 3;
const SAMPLES_PER_STAGE = 2;

interface Stage {
  b: Backbone;
  costUsd: number;
  latencyS: number;
  spec: MasSpec;
}

function worstCase(stages: readonly Stage[]): { costUsd: number; latencyS: number } {
  let costUsd = 0;
  let latencyS = 0;
  stages.forEach((s, i) => {
    costUsd += (i === stages.length - 1 ? 1 : SAMPLES_PER_STAGE) * s.costUsd;
    latencyS += s.latencyS;
  });
  return { costUsd, latencyS };
}

export function planCascade(ctx: MethodContext): MethodPlan {
  const d = ctx.task.domain;
  const top: Topology = { agents: [{ id: 'decision', role: ctx.decisionRole.id }], edges: [], decision: 'decision' };
  const rolePrompts = rolePromptsFor(top, ctx);
  const all: Stage[] = ctx.backbones.map((b) => {
    const spec = assignAll(top, b.id);
    const p = predictSpec(spec, rolePrompts, ctx);
    return { b, costUsd: p.costUsd, latencyS: p.latencyS, spec };
  });
  // Pareto frontier: by cost ascending, keep a backbone only when it is more able than every cheaper one.
  const byCost = [...all].sort(
    (x, y) => x.costUsd - y.costUsd || abilityOf(y.b, d) - abilityOf(x.b, d) || (x.b.id < y.b.id ? -1 : 1),
  );
  const frontier: Stage[] = [];
  for (const s of byCost)
    if (frontier.length === 0 || abilityOf(s.b, d) > abilityOf(frontier[frontier.length - 1]!.b, d)) frontier.push(s);

  // Last stage: the most able backbone that fits alone (ties: cheaper); then cheaper, less able
  // frontier backbones in front of it, cheapest first, while the worst case still fits.
  const byAbility = [...all].sort(
    (x, y) => abilityOf(y.b, d) - abilityOf(x.b, d) || x.costUsd - y.costUsd || (x.b.id < y.b.id ? -1 : 1),
  );
  let stages: Stage[] | undefined;
  const last = byAbility.find((s) => fitsBudgets(worstCase([s]), ctx.budgets));
  if (last) {
    const chosen: Stage[] = [];
    for (const f of frontier) {
      if (chosen.length >= MAX_STAGES - 1) break;
      if (f.costUsd >= last.costUsd || abilityOf(f.b, d) >= abilityOf(last.b, d)) continue;
      if (fitsBudgets(worstCase([...chosen, f, last]), ctx.budgets)) chosen.push(f);
    }
    stages = [...chosen, last];
  }
  const fits = stages !== undefined;
  stages ??= [[...all].sort((x, y) => overrun(x, ctx.budgets) - overrun(y, ctx.budgets))[0]!];
  const wc = worstCase(stages);
  const samples = stages.map((_, i) => (i === stages.length - 1 ? 1 : SAMPLES_PER_STAGE));
  const names = stages.map((s) => s.b.id).join(' → ');
  return {
    spec: stages[0]!.spec,
    rolePrompts,
    cascade: { stages: stages.map((s) => s.spec), samples, rule: 'two-samples-agree' },
    note:
      `cascade ${names}${fits ? '' : ' (nothing fits: the backbone with the smallest overrun, alone)'}: every stage but the last runs ${SAMPLES_PER_STAGE} samples in parallel ` +
      `and stops when they agree (answers compared after the grader's normalisation); the last stage runs once and is accepted. ` +
      `Worst case predicted $${wc.costUsd.toPrecision(3)}, ${wc.latencyS.toPrecision(3)} s`,
    predicted: { costUsd: wc.costUsd, latencyS: wc.latencyS, fits: fitsBudgets(wc, ctx.budgets) },
  };
}
