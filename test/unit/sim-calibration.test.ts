import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BENCHMARK_DOMAIN, type BenchmarkId } from '../../core/domain';
import { callCostUsd, callLatencyS } from '../../core/estimate';
import { BUILTIN_POOLS } from '../../core/pool-file';
import { DIFFICULTY_PRIOR, expectedAccuracy, solveTheta } from '../../core/sim/calibration';
import { SimulatedProvider } from '../../activities/providers/sim/provider';
import type { ChatRequest } from '../../activities/providers/types';
import { isRight, synthTask } from '../support/sim-tasks';

const pool = BUILTIN_POOLS['sim-14']!;
const provider = new SimulatedProvider();

test('solveTheta inverts E[σ(θ − b)] over the difficulty prior (property)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      fc.constantFrom(...Object.values(DIFFICULTY_PRIOR)),
      (acc, prior) => {
        assert.ok(Math.abs(expectedAccuracy(solveTheta(acc, prior), prior) - acc) < 1e-6);
      },
    ),
  );
  assert.ok(expectedAccuracy(1, DIFFICULTY_PRIOR.gsm8k) < expectedAccuracy(1.1, DIFFICULTY_PRIOR.gsm8k));
  assert.ok(Math.abs(expectedAccuracy(0, { mu: 0, sigma: 1.5 }) - 0.5) < 1e-9);
});

/**
 * One backbone alone, no peers, no waiting: its accuracy (read from the emitted text against the
 * answer key), its mean latency and its mean cost must match the pool's cited figures, latency
 * model and prices.
 */
describe('single-agent calibration of sim-14', () => {
  const DRAWS = 2000;
  const TOLERANCE = 0.03;
  const benches: BenchmarkId[] = ['gsm8k', 'mmlu', 'humaneval'];

  for (const bench of benches) {
    test(`${bench}: accuracy within ±3 points of the cited figure; latency and cost match the model (${DRAWS} draws each)`, async () => {
      const domain = BENCHMARK_DOMAIN[bench];
      const stats = pool.backbones.map(() => ({ right: 0, inTok: 0, outTok: 0, latencyS: 0, modelS: 0, costUsd: 0 }));
      // Task-major order: each prompt is tokenized once for all backbones.
      for (let i = 0; i < DRAWS; i++) {
        const task = synthTask(bench, i);
        const req: ChatRequest = {
          system: 'You are a careful solver. End with the final answer.',
          messages: [{ role: 'user', content: task.question }],
          maxTokens: 1_000_000,
          temperature: 0,
          simulation: { task, role: 'solver', seed: 'calibration', peerTexts: [], timeFactor: 0 },
        };
        for (const [k, b] of pool.backbones.entries()) {
          const res = await provider.chat(b, req);
          const s = stats[k]!;
          if (isRight(res.text, task)) s.right++;
          s.inTok += res.usage.inputTokens;
          s.outTok += res.usage.outputTokens;
          s.latencyS += res.timing.totalS;
          s.modelS += callLatencyS(b.latency, res.usage.inputTokens, res.usage.outputTokens);
          s.costUsd += callCostUsd(b, res.usage.inputTokens, res.usage.outputTokens);
        }
      }
      const failures: string[] = [];
      pool.backbones.forEach((b, k) => {
        const s = stats[k]!;
        const cited = b.citedAccuracy?.[bench]?.value ?? NaN;
        const acc = s.right / DRAWS;
        if (!(Math.abs(acc - cited) <= TOLERANCE)) failures.push(`${b.id}: accuracy ${acc.toFixed(3)} vs cited ${cited}`);
        // Jitter has mean 1, so mean latency = the latency model at the calls' own token counts.
        const latRatio = s.latencyS / s.modelS;
        if (Math.abs(latRatio - 1) > 0.02) failures.push(`${b.id}: latency ratio ${latRatio.toFixed(3)}`);
        // Output length is sampled around the profile's mean; cost follows the list prices.
        const meanOut = b.profile?.meanOutputTokens[domain] ?? NaN;
        const outRatio = s.outTok / DRAWS / meanOut;
        if (Math.abs(outRatio - 1) > 0.08)
          failures.push(`${b.id}: mean output ${(s.outTok / DRAWS).toFixed(0)} vs profile ${meanOut}`);
        const expectedCost = callCostUsd(b, s.inTok / DRAWS, meanOut);
        const costRatio = s.costUsd / DRAWS / expectedCost;
        if (Math.abs(costRatio - 1) > 0.08) failures.push(`${b.id}: mean cost ratio ${costRatio.toFixed(3)}`);
      });
      assert.deepEqual(failures, []);
    });
  }

  test('built-in samples borrow their proxy benchmark figures (sample-math → gsm8k, sample-mc → mmlu, sample-code → humaneval)', async () => {
    const draws = 1000;
    const proxy = { 'sample-math': 'gsm8k', 'sample-mc': 'mmlu', 'sample-code': 'humaneval' } as const;
    for (const [sample, real] of Object.entries(proxy) as [keyof typeof proxy, BenchmarkId][]) {
      for (const id of ['llama-3.1-8b', 'gpt-4o']) {
        const b = pool.backbones.find((x) => x.id === id)!;
        let right = 0;
        for (let i = 0; i < draws; i++) {
          const task = synthTask(sample, i);
          const res = await provider.chat(b, {
            system: '',
            messages: [{ role: 'user', content: task.question }],
            maxTokens: 1_000_000,
            temperature: 0,
            simulation: { task, role: 'solver', seed: 'samples', peerTexts: [] },
          });
          if (isRight(res.text, task)) right++;
        }
        const cited = b.citedAccuracy?.[real]?.value ?? NaN;
        assert.ok(Math.abs(right / draws - cited) <= 0.04, `${id} on ${sample}: ${right / draws} vs ${cited}`);
      }
    }
  });
});
