import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  budgetsOf,
  CampaignMetaSchema,
  campaignIdFor,
  logSpaced,
  parseCampaignSpec,
  parseRunKeyId,
  resolveMethods,
  runKeyId,
  runKeys,
  splitFingerprint,
} from '../../core/campaign/spec';
import { BUILTIN_POOLS } from '../../core/pool-file';

const pool = BUILTIN_POOLS['sim-14']!.backbones.slice(0, 3);

test('logSpaced: endpoints exact, geometric steps, 4 significant digits', () => {
  assert.deepEqual(logSpaced(1e-4, 1e-2, 5), [1e-4, 3.162e-4, 1e-3, 3.162e-3, 1e-2]);
  assert.deepEqual(logSpaced(1, 1000, 4), [1, 10, 100, 1000]);
  assert.deepEqual(logSpaced(2, 2, 1), [2]);
  assert.deepEqual(logSpaced(2, 2, 3), [2]);
  assert.throws(() => logSpaced(0, 1, 3), /positive/);
  assert.throws(() => logSpaced(2, 1, 3), /max 1 < min 2/);
  assert.throws(() => logSpaced(1, 2, 0), /positive integer/);
});

test('spec: defaults, grids, and at least one budget axis', () => {
  const s = parseCampaignSpec({
    benchmark: 'sample-math',
    seed: 7,
    methods: ['chain', 'single:*'],
    costBudgets: { min: 1e-4, max: 1e-2, n: 3 },
  });
  assert.equal(s.split, 'test');
  assert.equal(s.seed, '7');
  assert.equal(s.pool, 'sim-14');
  assert.equal(s.concurrency, 4);
  assert.deepEqual(s.costBudgets, [1e-4, 1e-3, 1e-2]);
  assert.deepEqual(s.latencyBudgets, []);
  assert.deepEqual(
    parseCampaignSpec({ benchmark: 'gsm8k', methods: ['star'], latencyBudgets: [10, 1, 10] }).latencyBudgets,
    [1, 10],
  );
  assert.throws(() => parseCampaignSpec({ benchmark: 'gsm8k', methods: ['star'] }), /at least one cost or latency budget/);
  assert.throws(() => parseCampaignSpec({ benchmark: 'gsm8k', methods: ['nope'], costBudgets: [1] }), /unknown method id/);
  assert.throws(() => parseCampaignSpec({ benchmark: 'gsm8k', methods: ['star'], costBudgets: [0] }));
  assert.throws(() => parseCampaignSpec({ benchmark: 'nope', methods: ['star'], costBudgets: [1] }));
  assert.throws(() => parseCampaignSpec({ benchmark: 'gsm8k', methods: ['star'], costBudgets: [1], extra: 1 }));
});

test('runKeys: deterministic order, one key per method × axis × budget × task, stable ids', () => {
  const spec = parseCampaignSpec({
    benchmark: 'gsm8k',
    methods: ['star', 'single:*'],
    costBudgets: [0.01, 0.001],
    latencyBudgets: [5],
  });
  assert.throws(() => runKeys(spec, ['t1']), /expand single:\*/);
  const keys = runKeys(spec, ['t1', 't2'], pool);
  const methods = resolveMethods(spec, pool);
  assert.deepEqual(methods, ['star', ...pool.map((b) => `single:${b.id}`)]);
  assert.equal(keys.length, methods.length * 3 * 2);
  assert.deepEqual(
    keys.slice(0, 6).map((k) => k.runKeyId),
    [
      'star|cost|0.001|t1',
      'star|cost|0.001|t2',
      'star|cost|0.01|t1',
      'star|cost|0.01|t2',
      'star|latency|5|t1',
      'star|latency|5|t2',
    ],
  );
  assert.equal(new Set(keys.map((k) => k.runKeyId)).size, keys.length);
  assert.deepEqual(runKeys(spec, ['t1', 't2'], pool), keys);
  const k = keys[4]!;
  assert.deepEqual(budgetsOf(k), { maxLatencyS: 5 });
  assert.deepEqual(budgetsOf(keys[0]!), { maxCostUsd: 0.001 });
  const withPipe = runKeyId({ method: 'chain', budgetKind: 'cost', budget: 3.162e-4, taskId: 'mmlu/a|b' });
  assert.deepEqual(parseRunKeyId(withPipe), { method: 'chain', budgetKind: 'cost', budget: 3.162e-4, taskId: 'mmlu/a|b' });
  assert.throws(() => runKeys(spec, ['t1', 't1'], pool), /duplicate task id/);
});

test('fingerprints and campaign ids are order-independent and deterministic', () => {
  assert.equal(splitFingerprint(['b', 'a']), splitFingerprint(['a', 'b']));
  assert.notEqual(splitFingerprint(['a']), splitFingerprint(['a', 'b']));
  assert.match(splitFingerprint(['a']), /^[0-9a-f]{16}$/);
  const spec = parseCampaignSpec({ benchmark: 'gsm8k', methods: ['star'], costBudgets: [1] });
  assert.equal(campaignIdFor(spec, ['x', 'y']), campaignIdFor(spec, ['y', 'x']));
  assert.match(campaignIdFor(spec, ['x']), /^c-[0-9a-f]{12}$/);
  const meta = CampaignMetaSchema.parse({
    id: 'c1',
    spec,
    methods: ['star'],
    pool: { name: 'sim-14', simulated: true, priceTableVersion: '2025-06' },
    taskIds: ['x'],
    splitFingerprint: splitFingerprint(['x']),
    createdAt: '2025-01-01T00:00:00Z',
  });
  assert.equal(meta.status, 'running');
  assert.equal(meta.codeVersion, 'unknown');
});
