import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitDifficultyRegressor, fitPoolProfile, type ProfilingObservation } from '../../activities/profiling';
import { fitIrt, irtProbability, type IrtObservation } from '../../core/profiling/irt';
import {
  addBackbonesToProfile,
  parsePoolProfile,
  predictDifficulty,
  profileFromPoolFile,
  PoolProfileSchema,
} from '../../core/profiling/pool-profile';
import { Rng } from '../../core/random';
import { fitLatencyModel, ridgeFit, linearPredict, PLAUSIBLE_LATENCY } from '../../core/profiling/regression';
import { smallPool, syntheticQueries } from './designer-fixtures';

function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let num = 0;
  let da = 0;
  let db = 0;
  a.forEach((x, i) => {
    num += (x - ma) * (b[i]! - mb);
    da += (x - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  });
  return num / Math.sqrt(da * db);
}

test('latency least squares recovers ttft, prefill and decode throughput', () => {
  const rng = new Rng('lat');
  const truth = { ttftS: 0.4, prefillTps: 3000, decodeTps: 80 };
  const obs = Array.from({ length: 200 }, () => {
    const nIn = 100 + rng.int(3000);
    const nOut = 20 + rng.int(800);
    return { nIn, nOut, seconds: truth.ttftS + nIn / truth.prefillTps + nOut / truth.decodeTps + 0.05 * rng.normal() };
  });
  const fit = fitLatencyModel(obs);
  assert.ok(Math.abs(fit.model.ttftS - 0.4) < 0.05, `ttft ${fit.model.ttftS}`);
  assert.ok(Math.abs(fit.model.decodeTps - 80) / 80 < 0.03, `decode ${fit.model.decodeTps}`);
  assert.ok(Math.abs(fit.model.prefillTps - 3000) / 3000 < 0.25, `prefill ${fit.model.prefillTps}`);
  assert.ok(fit.rmseS < 0.07);
  // Negative coefficients are clamped: pure-decode data gives an unidentifiable prefill → max tps.
  const flat = fitLatencyModel([1, 2, 3, 4].map((k) => ({ nIn: 100, nOut: k * 100, seconds: k })));
  assert.ok(flat.model.decodeTps > 99 && flat.model.decodeTps < 101);
  assert.ok(flat.model.prefillTps > 0);
});

function synthIrt(kind: '1pl' | '2pl', nModels: number, nItems: number, seed: string) {
  const rng = new Rng(seed);
  const theta = Array.from({ length: nModels }, () => 1.2 * rng.normal());
  const items = Array.from({ length: nItems }, () => ({ b: rng.normal(), a: kind === '2pl' ? Math.exp(0.4 * rng.normal()) : 1 }));
  const obs: IrtObservation[] = [];
  theta.forEach((t, m) =>
    items.forEach((it, q) =>
      obs.push({ backbone: `m${m}`, item: `q${q}`, domain: 'math', correct: rng.next() < irtProbability(t, it.b, it.a) }),
    ),
  );
  return { theta, items, obs };
}

test('IRT 1PL recovers abilities and difficulties', () => {
  const { theta, items, obs } = synthIrt('1pl', 12, 400, 'irt1');
  const fit = fitIrt(obs, { kind: '1pl' });
  const est = theta.map((_, m) => fit.theta[`m${m}`]!.math!);
  assert.ok(pearson(theta, est) > 0.97, `θ corr ${pearson(theta, est)}`);
  const bEst = fit.items.map((it) => it.b);
  assert.ok(
    pearson(
      items.map((i) => i.b),
      bEst,
    ) > 0.75,
    `b corr ${pearson(
      items.map((i) => i.b),
      bEst,
    )}`,
  );
  assert.ok(fit.items.every((it) => it.a === 1));
});

test('IRT 2PL fits discrimination and does not lose likelihood to 1PL', () => {
  const { theta, obs } = synthIrt('2pl', 14, 300, 'irt2');
  const f1 = fitIrt(obs, { kind: '1pl' });
  const f2 = fitIrt(obs, { kind: '2pl' });
  assert.ok(f2.logLikelihood >= f1.logLikelihood - 1e-6);
  assert.ok(
    pearson(
      theta,
      theta.map((_, m) => f2.theta[`m${m}`]!.math!),
    ) > 0.95,
  );
  assert.ok(f2.items.some((it) => Math.abs(it.a - 1) > 0.05));
});

test('ridge difficulty regressor predicts held-out difficulty from query text', () => {
  const qs = syntheticQueries(400, 'reg');
  const train = qs.slice(0, 300);
  const test_ = qs.slice(300);
  const reg = fitDifficultyRegressor(
    train.map((q) => ({ query: q.text, domain: 'math' as const, b: q.difficulty })),
    1,
    128,
  );
  const pred = test_.map((q) => predictDifficulty(reg, q.text, 'math'));
  const r = pearson(
    pred,
    test_.map((q) => q.difficulty),
  );
  assert.ok(r > 0.6, `held-out corr ${r}`);
  // Plain ridge sanity: exact on a noiseless linear target with tiny lambda.
  const X = [
    [1, 0],
    [0, 1],
    [1, 1],
    [2, 1],
  ];
  const m = ridgeFit(
    X,
    X.map(([a, b]) => 2 * a! - b! + 3),
    1e-9,
  );
  assert.ok(Math.abs(linearPredict(m, [3, 2]) - 7) < 1e-6);
});

test('fitPoolProfile builds a valid, hashed profile from profiling observations', () => {
  const pool = smallPool();
  const rng = new Rng('prof');
  const qs = syntheticQueries(80, 'prof-q');
  const obs: ProfilingObservation[] = [];
  for (const b of pool) {
    const theta = b.profile!.ability.math!;
    qs.forEach((q, i) => {
      const nIn = 80 + rng.int(200);
      const nOut = Math.round(b.profile!.meanOutputTokens.math! * (0.7 + 0.6 * rng.next()));
      obs.push({
        backbone: b.id,
        item: `q${i}`,
        domain: 'math',
        query: q.text,
        correct: rng.next() < irtProbability(theta, q.difficulty),
        inputTokens: nIn,
        outputTokens: nOut,
        latencyS: b.latency.ttftS + nIn / b.latency.prefillTps + nOut / b.latency.decodeTps,
      });
    });
  }
  const { profile, report } = fitPoolProfile({ backbones: pool, observations: obs });
  assert.equal(report.irt, '1pl'); // 7 responses per item < 8 → 1PL
  assert.equal(profile.items.length, 80);
  assert.equal(PoolProfileSchema.parse(profile).profileHash, profile.profileHash);
  const byId = new Map(profile.backbones.map((b) => [b.id, b]));
  const big = byId.get('reason-big')!;
  assert.ok(Math.abs(big.latency.decodeTps - 50) < 1, `decode ${big.latency.decodeTps}`);
  const est = pool.map((b) => byId.get(b.id)!.ability.math!);
  assert.ok(
    pearson(
      est,
      pool.map((b) => b.profile!.ability.math!),
    ) > 0.9,
  );
  assert.ok(profile.difficultyRegressor.n === 80);
  assert.ok(profile.meanQueryTokens.math! > 5);
  assert.deepEqual(parsePoolProfile(JSON.parse(JSON.stringify(profile))), profile);
});

test('profileHash is content-addressed and verified', () => {
  const p = profileFromPoolFile(smallPool());
  assert.match(p.profileHash, /^[0-9a-f]{64}$/);
  assert.equal(profileFromPoolFile(smallPool()).profileHash, p.profileHash);
  const tampered = { ...p, backbones: p.backbones.map((b, i) => (i === 0 ? { ...b, priceInPerMTok: 99 } : b)) };
  assert.throws(() => parsePoolProfile(tampered), /hash mismatch/);
  const added = addBackbonesToProfile(p, [{ ...p.backbones[0]!, id: 'new-one' }]);
  assert.notEqual(added.profileHash, p.profileHash);
  assert.equal(added.backbones.length, p.backbones.length + 1);
  // Pool-file profile: prior difficulty, no items.
  assert.equal(predictDifficulty(p.difficultyRegressor, 'anything', 'math'), 0);
});

test('latency fits stay plausible: queueing-inflated or unidentifiable terms are bounded or take the prior', () => {
  // Calls that queued ~100 s behind others: the fitted time to first token is capped.
  const queued = [100, 200, 300, 400, 500].map((k) => ({ nIn: 200 + k, nOut: k, seconds: 100 + k / 50 }));
  const q = fitLatencyModel(queued);
  assert.ok(q.model.ttftS <= PLAUSIBLE_LATENCY.maxTtftS, `ttft ${q.model.ttftS}`);
  // Output length alone explains the time: the prefill term is unidentifiable and takes the prior's value.
  const prior = { ttftS: 0.4, prefillTps: 3000, decodeTps: 80 };
  const flat = fitLatencyModel([1, 2, 3, 4].map((k) => ({ nIn: 100, nOut: k * 100, seconds: k })), prior);
  assert.equal(flat.model.prefillTps, 3000);
  // Instant answers never give a million tokens per second.
  const instant = fitLatencyModel([1, 2, 3, 4, 5].map((k) => ({ nIn: 100 * k, nOut: 50 * k, seconds: 0.2 })));
  assert.ok(instant.model.decodeTps <= PLAUSIBLE_LATENCY.maxDecodeTps && instant.model.prefillTps <= PLAUSIBLE_LATENCY.maxPrefillTps);
});
