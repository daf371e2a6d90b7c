import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHighsMatchingSolver } from '../../activities/matching-solver';
import { tfPolicyProbabilities, trainDesigner, type TrainingProgress } from '../../activities/training';
import { createInitialDesigner, designMas, prepareDesign, runPolicy } from '../../core/designer/designer';
import { offlineEmbedderFromConfig } from '../../core/designer/embed';
import { addBackbonesToProfile, profileFromPoolFile, type ProfiledBackbone } from '../../core/profiling/pool-profile';
import { TrainedDesignerSchema } from '../../core/designer/trained-designer';
import { MATH_ROLES, smallPool, syntheticQueries } from './designer-fixtures';

const roles = { math: { roles: MATH_ROLES, decisionRole: 'decision' } };
const queries = syntheticQueries(40, 'train').map((q) => ({ text: q.text, domain: 'math' as const, difficulty: q.difficulty }));

test('tfjs training graph and the pure inference forward pass agree', async () => {
  const solver = await createHighsMatchingSolver();
  const profile = profileFromPoolFile(smallPool());
  const designer = createInitialDesigner({ profile, embedder: { kind: 'hashed-ngram', dim: 64 }, seed: 'parity' });
  const embedder = offlineEmbedderFromConfig(designer.embedder);
  for (const budgets of [{}, { maxCostUsd: 0.01, maxLatencyS: 30 }]) {
    const prep = prepareDesign({
      query: queries[0]!.text,
      domain: 'math',
      budgets,
      designer,
      profile,
      roles: MATH_ROLES,
      decisionRole: 'decision',
      embedder,
      solver,
    });
    const pure = runPolicy(designer, prep);
    const tfp = await tfPolicyProbabilities(designer, prep);
    const n = prep.slots.length;
    for (let v = 0; v < n - 1; v++) if (prep.candidate[v]) assert.ok(Math.abs(pure.gate[v]! - tfp.gate[v]!) < 1e-4, `gate ${v}`);
    for (let u = 0; u < n; u++)
      for (let v = u + 1; v < n; v++)
        if (prep.candidate[u] && prep.candidate[v])
          assert.ok(Math.abs(pure.edge[u]![v]! - tfp.edge[u]![v]!) < 1e-4, `edge ${u}->${v}`);
  }
});

test('tiny REINFORCE run returns a valid, versioned TrainedDesigner and reports progress', async () => {
  const profile = profileFromPoolFile(smallPool());
  const progress: TrainingProgress[] = [];
  const options = { steps: 12, batch: 6, samplesPerEpisode: 3, curveEvery: 4, seed: 'tiny' };
  const d = await trainDesigner({ profile, roles, queries, options }, { onProgress: (p) => void progress.push(p) });
  TrainedDesignerSchema.parse(d);
  assert.equal(d.profileHash, profile.profileHash);
  assert.equal(progress.length, 12);
  assert.equal(progress.at(-1)!.step, 12);
  assert.equal(d.curve.length, 3);
  assert.ok(d.training && d.training.steps === 12 && d.training.backend === 'cpu');
  assert.ok(Object.values(d.weights).every((w) => w.data.every(Number.isFinite)));
  assert.ok(d.lambdas.cost >= 0 && d.lambdas.latency >= 0);
  assert.ok(d.budgetScale.math && d.budgetScale.math.costUsd[0] < d.budgetScale.math.costUsd[1]);
  // Same seed, same artifact (seeded sampling, deterministic CPU kernels).
  const again = await trainDesigner({ profile, roles, queries, options });
  assert.deepEqual(again.weights, d.weights);
  // It round-trips through JSON and designs with the trained weights.
  const parsed = TrainedDesignerSchema.parse(JSON.parse(JSON.stringify(d)));
  const solver = await createHighsMatchingSolver();
  const res = designMas({
    query: queries[1]!.text,
    domain: 'math',
    budgets: { maxCostUsd: 0.005 },
    designer: parsed,
    profile,
    roles: MATH_ROLES,
    decisionRole: 'decision',
    embedder: offlineEmbedderFromConfig(parsed.embedder),
    solver,
  });
  assert.ok(res.predicted.costUsd <= 0.005);
});

test('dual ascent raises λ while raw samples break budgets on average', async () => {
  const profile = profileFromPoolFile(smallPool());
  const d = await trainDesigner({
    profile,
    roles,
    queries,
    options: {
      steps: 8,
      batch: 6,
      samplesPerEpisode: 3,
      seed: 'dual',
      penaltyTarget: 'raw',
      violationTolerance: 0,
      initialLambdas: { cost: 0, latency: 0 },
      curveEvery: 1,
    },
  });
  const sawCost = d.curve.some((p) => p.costViolation > 0);
  assert.ok(sawCost, 'some raw samples overshoot the cost budget');
  assert.ok(d.lambdas.cost > 0);
  // λ never decreases with zero tolerance, and rises exactly on steps with violations.
  for (let i = 1; i < d.curve.length; i++) assert.ok(d.curve[i]!.lambdaC >= d.curve[i - 1]!.lambdaC);
});

test('unseen backbone: a strong cheap LLM added through its profile only gets roles', async () => {
  const profile = profileFromPoolFile(smallPool());
  const designer = await trainDesigner({
    profile,
    roles,
    queries,
    options: { steps: 15, batch: 6, samplesPerEpisode: 3, seed: 'unseen', rewardMode: 'expected' },
  });
  const x: ProfiledBackbone = {
    id: 'newcomer-x',
    priceInPerMTok: 0.1,
    priceOutPerMTok: 0.3,
    latency: { ttftS: 0.2, prefillTps: 8000, decodeTps: 150 },
    contextWindow: 128000,
    reasoning: false,
    ability: { math: 2.6, knowledge: 2.6, code: 2.4 },
    meanOutputTokens: { math: 300 },
  };
  const withX = addBackbonesToProfile(profile, [x]);
  const solver = await createHighsMatchingSolver();
  const embedder = offlineEmbedderFromConfig(designer.embedder);
  let used = 0;
  let matched = 0;
  const held = syntheticQueries(12, 'held-out');
  for (const q of held) {
    for (const budgets of [
      { maxCostUsd: 0.003, maxLatencyS: 15 },
      { maxCostUsd: 0.01, maxLatencyS: 30 },
    ]) {
      const res = designMas({
        query: q.text,
        domain: 'math',
        budgets,
        designer,
        profile: withX,
        roles: MATH_ROLES,
        decisionRole: 'decision',
        embedder,
        solver,
        difficulty: q.difficulty,
      });
      assert.equal(res.trace.profileMatchesTraining, false);
      if (res.spec.agents.some((a) => a.backbone === x.id)) used++;
      if (res.trace.matching.assigned.some((a) => a.backbone === x.id)) matched++;
      // Without X, the same designer never names it.
      const before = designMas({
        query: q.text,
        domain: 'math',
        budgets,
        designer,
        profile,
        roles: MATH_ROLES,
        decisionRole: 'decision',
        embedder,
        solver,
        difficulty: q.difficulty,
      });
      assert.ok(!before.spec.agents.some((a) => a.backbone === x.id));
    }
  }
  assert.ok(used >= 20, `X used in ${used}/24 designs`);
  assert.ok(matched >= 20, `X matched to a role by the MIP in ${matched}/24 designs`);
});
