import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossValidatedRmse, fitDifficultyRegressor, fitPoolProfile, THETA_PRIOR_SD, type ProfilingObservation } from '../../activities/profiling';
import { fitIrt, irtProbability } from '../../core/profiling/irt';
import { difficultySpreadOf, predictDifficulty } from '../../core/profiling/pool-profile';
import { predictMas, slotOutputTokens, type AgentSlot } from '../../core/designer/predict';
import { Rng } from '../../core/random';
import type { Backbone } from '../../core/pool';
import { smallPool, syntheticQueries } from './designer-fixtures';

/**
 * Profiling keeps what it measures well (output lengths, latency) and shrinks what it measures
 * badly (abilities toward the pool file's prior; σ_b from held-out error) (#13).
 */

/** One backbone's observations on `n` items whose true ability is `trueTheta` (items b ~ N(0, 1)). */
function observe(b: Backbone, trueTheta: number, n: number, seed: string, role?: string): ProfilingObservation[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const difficulty = rng.normal();
    const nOut = Math.round(100 * (0.7 + 0.6 * rng.next()));
    return {
      backbone: b.id,
      item: `q${i}`,
      domain: 'math' as const,
      query: `Q${i}: how many ${i % 7} apples?`,
      correct: rng.next() < irtProbability(trueTheta, difficulty),
      inputTokens: 100,
      outputTokens: nOut,
      latencyS: b.latency.ttftS + 100 / b.latency.prefillTps + nOut / b.latency.decodeTps,
      ...(role ? { role } : {}),
    };
  });
}

/** The whole small pool at its prior abilities, except `target`, whose truth is prior + shift; n shared items. */
function poolObservations(pool: Backbone[], target: string, shift: number, n: number): ProfilingObservation[] {
  const items = new Rng(`items-${n}`);
  const bs = Array.from({ length: n }, () => items.normal());
  return pool.flatMap((b) => {
    const truth = b.profile!.ability.math! + (b.id === target ? shift : 0);
    const rng = new Rng(`outcomes-${b.id}-${n}`);
    return bs.map((difficulty, i) => ({
      backbone: b.id,
      item: `q${i}`,
      domain: 'math' as const,
      query: `Q${i}: how many ${i % 7} apples?`,
      correct: rng.next() < irtProbability(truth, difficulty),
      inputTokens: 100,
      outputTokens: 100,
      latencyS: 1,
    }));
  });
}

test('abilities: the pool file prior without evidence, moving toward the data as observations grow', () => {
  const pool = smallPool();
  const target = pool[1]!.id;
  const prior = pool[1]!.profile!.ability.math!;
  const shift = 1.5;
  const est = (n: number): number => {
    const { profile } = fitPoolProfile({ backbones: pool, observations: poolObservations(pool, target, shift, n) });
    return profile.backbones.find((b) => b.id === target)!.ability.math!;
  };
  const small = est(10);
  const large = est(1500);
  // Moves toward the truth (prior + shift), further with more evidence, and close with plenty.
  assert.ok(small > prior, `n=10: ${small} vs prior ${prior}`);
  assert.ok(Math.abs(large - (prior + shift)) < Math.abs(small - (prior + shift)), `n=10: ${small}, n=1500: ${large}`);
  assert.ok(Math.abs(large - (prior + shift)) < 0.35, `n=1500: ${large}, truth ${prior + shift}`);
  // Few observations: stays closer to the prior than the unanchored fit does.
  const obs10 = poolObservations(pool, target, shift, 10);
  const free = fitPoolProfile({ backbones: pool, observations: obs10, options: { thetaPriorSd: Infinity } });
  const freeTheta = free.profile.backbones.find((b) => b.id === target)!.ability.math!;
  assert.ok(Math.abs(small - prior) < Math.abs(freeTheta - prior), `anchored ${small}, free ${freeTheta}, prior ${prior}`);

  // A backbone without observations keeps the pool file's ability exactly; sd 0 keeps every prior.
  const withoutTarget = poolObservations(pool, target, shift, 40).filter((o) => o.backbone !== target);
  const p0 = fitPoolProfile({ backbones: pool, observations: withoutTarget }).profile;
  assert.equal(p0.backbones.find((b) => b.id === target)!.ability.math, prior);
  const pinned = fitPoolProfile({ backbones: pool, observations: poolObservations(pool, target, shift, 40), options: { thetaPriorSd: 0 } }).profile;
  for (const b of pool) assert.equal(pinned.backbones.find((x) => x.id === b.id)!.ability.math, b.profile!.ability.math);
  assert.ok(THETA_PRIOR_SD > 0);
});

test('fitIrt: the θ prior is the posterior mode without data and its standard error shrinks with data', () => {
  const obs = [{ backbone: 'a', item: 'q1', domain: 'math' as const, correct: true }];
  const fit = fitIrt(obs, { kind: '1pl', thetaPrior: { mean: { a: { math: 1.2 } }, sd: 0.5 } });
  // One response moves θ a little off the prior; the standard error is below the prior sd.
  assert.ok(fit.theta.a!.math! > 1.2 && fit.theta.a!.math! < 1.2 + 0.5, `${fit.theta.a!.math}`);
  assert.ok(fit.thetaSe.a!.math! < 0.5);
  const many = Array.from({ length: 200 }, (_, i) => ({ backbone: 'a', item: `q${i}`, domain: 'math' as const, correct: i % 2 === 0 }));
  const fitMany = fitIrt([...many, ...many.map((o) => ({ ...o, backbone: 'b' }))], { kind: '1pl', thetaPrior: { mean: { a: { math: 1.2 }, b: { math: 1.2 } }, sd: 0.5 } });
  assert.ok(fitMany.thetaSe.a!.math! < fit.thetaSe.a!.math!);
});

test('σ_b is the held-out error: at least the training error when features carry no signal', () => {
  const rng = new Rng('cv');
  const qs = syntheticQueries(40, 'cv-q');
  // Difficulties unrelated to the text: the regressor can only overfit.
  const items = qs.map((q) => ({ query: q.text, domain: 'math' as const, b: 1.3 * rng.normal() }));
  const reg = fitDifficultyRegressor(items, 1, 64);
  assert.ok(reg.trainRmse! < reg.heldOutRmse!, `train ${reg.trainRmse}, held-out ${reg.heldOutRmse}`);
  assert.equal(difficultySpreadOf(reg), reg.heldOutRmse);
  // Penalty by held-out error: with no signal the constant (the items' mean) predicts best.
  const chosen = fitDifficultyRegressor(items, 'cv', 64);
  assert.ok(chosen.heldOutRmse! <= reg.heldOutRmse!);
  assert.ok(chosen.weights.every((w) => w === 0), 'uninformative features: the constant model');
  const meanB = items.reduce((s, it) => s + it.b, 0) / items.length;
  assert.ok(Math.abs(predictDifficulty(chosen, 'anything at all', 'math') - meanB) < 1e-9);
  // With signal in the text (difficulty grows with the number of steps) the features are kept.
  const informative = fitDifficultyRegressor(qs.map((q) => ({ query: q.text, domain: 'math' as const, b: q.difficulty })), 'cv', 64);
  assert.ok(informative.weights.some((w) => w !== 0), `λ ${informative.lambda}`);
  // An exact linear relation is predicted out of sample too.
  const X = Array.from({ length: 30 }, (_, i) => [i / 10, (i % 3) / 2]);
  assert.ok(crossValidatedRmse(X, X.map(([a, b]) => 2 * a! - b! + 1), 1e-9, 5) < 1e-4);
});

test('measured output lengths per role: the profiled role predicts from its measurements, others from the mean', () => {
  const pool = smallPool();
  const obs = pool.flatMap((b) => observe(b, b.profile!.ability.math!, 30, `role-${b.id}`, 'decision'));
  const { profile } = fitPoolProfile({ backbones: pool, observations: obs });
  const b = profile.backbones[0]!;
  const measured = obs.filter((o) => o.backbone === b.id).reduce((s, o) => s + o.outputTokens, 0) / 30;
  assert.ok(Math.abs(b.roleOutputTokens!.decision!.math! - measured) < 1e-9);
  // The pool file's mean stays for the roles profiling did not run.
  assert.equal(b.meanOutputTokens.math, pool[0]!.profile!.meanOutputTokens.math);
  const decision: AgentSlot = { role: 'agg', roleId: 'decision', systemTokens: 20, isDecision: true };
  const solver: AgentSlot = { role: 'solver1', roleId: 'solver', systemTokens: 20, isDecision: false };
  assert.equal(slotOutputTokens(b, decision, 'math'), measured);
  assert.equal(slotOutputTokens(b, solver, 'math'), b.meanOutputTokens.math);
  // The prediction of a MAS uses them: a decision-only design writes the measured length.
  const p = predictMas(
    { slots: [decision], active: [true], backbone: [b], adj: [[false]] },
    { domain: 'math', difficulty: 0, queryTokens: 50, peerSway: { min: 0.4, max: 3 } },
  );
  assert.equal(p.perAgent[0]!.nOut, measured);
  // Observations without a role are the backbone's mean for every role (the earlier behaviour).
  const plain = fitPoolProfile({ backbones: pool, observations: obs.map(({ role: _r, ...o }) => o) }).profile.backbones[0]!;
  assert.ok(Math.abs(plain.meanOutputTokens.math! - measured) < 1e-9);
  assert.equal(plain.roleOutputTokens, undefined);
});
