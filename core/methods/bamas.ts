/**
 * `bamas` — BAMAS-style budget-aware MAS (Yang et al., 2025, "BAMAS: Structuring Budget-Aware
 * Multi-Agent Systems"): (1) provision backbones under the cost budget with an integer program,
 * then (2) choose a collaboration topology. BAMAS solves an ILP over LLM counts and picks the
 * topology with an RL-trained policy; this reproduction, for each template among chain, star and
 * layered (templates.ts), assigns a backbone to every agent maximising the summed predicted success
 * Σ_v σ(θ_{β(v),d} − b̂) under the predicted cost and latency budgets (greedy by gain per budget used,
 * every step checked exactly — util.ts `greedyAssign`), then picks the template by predicted fit:
 * templates whose predicted latency and cost fit come first, then the one whose decision agent is
 * most likely right, then the larger summed success, then the lower predicted latency.
 */
import { chainTopology, layeredTopology, starTopology } from './templates';
import type { MethodContext, MethodPlan } from './types';
import {
  describePrediction,
  greedyAssign,
  overrun,
  planPrediction,
  poolIndex,
  rolePromptsFor,
  successProbability,
  type GreedyAssignment,
} from './util';

const BAMAS_TEMPLATES = ['chain', 'star', 'layered'] as const;

function lexGreater(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

export function planBamas(ctx: MethodContext): MethodPlan {
  const pool = poolIndex(ctx.backbones);
  const builders = { chain: chainTopology, star: starTopology, layered: layeredTopology } as const;
  let best: { name: string; g: GreedyAssignment; rolePrompts: Record<string, string>; key: number[] } | undefined;
  for (const name of BAMAS_TEMPLATES) {
    const top = builders[name](ctx);
    const rolePrompts = rolePromptsFor(top, ctx);
    const g = greedyAssign(top, rolePrompts, ctx, { workerWeight: 1 });
    const dec = g.spec.agents.find((a) => a.id === g.spec.decision)!;
    const pDec = successProbability(pool.get(dec.backbone)!, ctx);
    // Lexicographic, larger is better.
    const key = [g.fits ? 1 : 0, g.fits ? 0 : -overrun(g.prediction, ctx.budgets), pDec, g.utility, -g.prediction.latencyS];
    if (!best || lexGreater(key, best.key)) best = { name, g, rolePrompts, key };
  }
  const { name, g, rolePrompts } = best!;
  const mix = [...new Set(g.spec.agents.map((a) => a.backbone))].join(', ');
  return {
    spec: g.spec,
    rolePrompts,
    note: `bamas: ${name} template, backbones ${mix}${g.fits ? '' : ' (nothing fits: smallest overrun)'} (${describePrediction(g.prediction)})`,
    predicted: planPrediction(g.prediction),
  };
}
