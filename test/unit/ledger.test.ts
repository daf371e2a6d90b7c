import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CostLedger, fairShare, maxTokensWithinCost, maxTokensWithinTime } from '../../core/ledger';

test('reservations never exceed the budget and spending never passes it (property)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1e-7, max: 10, noNaN: true }),
      fc.array(
        fc.record({
          want: fc.double({ min: 0, max: 5, noNaN: true }),
          // fraction of the reservation the call really spends (≤ 1: activities cap by reservation)
          used: fc.double({ min: 0, max: 1, noNaN: true }),
          settleNow: fc.boolean(),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      (limit, calls) => {
        const ledger = new CostLedger(limit);
        const open: [string, number, number][] = [];
        calls.forEach((c, i) => {
          const granted = ledger.reserve(`k${i}`, c.want);
          assert.ok(granted >= 0 && granted <= c.want);
          open.push([`k${i}`, granted, c.used]);
          assert.ok(ledger.spentUsd + ledger.reservedUsd <= limit);
          if (c.settleNow) {
            const [k, g, u] = open.shift()!;
            ledger.settle(k, g * u);
          }
        });
        for (const [k, g, u] of open) ledger.settle(k, g * u);
        assert.ok(ledger.spentUsd <= limit, `spent ${ledger.spentUsd} > ${limit}`);
        assert.equal(ledger.overshoots.length, 0);
      },
    ),
    { numRuns: 2000 },
  );
});

test('an unlimited ledger grants what is asked', () => {
  const l = new CostLedger(undefined);
  assert.equal(l.reserve('a', 3), 3);
  l.settle('a', 2);
  assert.equal(l.spentUsd, 2);
  assert.equal(l.available(), Infinity);
});

test('fair share gives everyone their request when it fits, proportional shares otherwise', () => {
  assert.equal(fairShare(10, 2, [2, 3]), 2);
  assert.equal(fairShare(1, 2, [2, 2]), 0.5);
  assert.equal(fairShare(Infinity, 2, [2, 2]), 2);
});

test('max_tokens is capped so input + output cost fits the cap exactly (property)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1e-8, max: 1, noNaN: true }),
      fc.integer({ min: 1, max: 200_000 }),
      fc.double({ min: 0.01, max: 100, noNaN: true }),
      fc.double({ min: 0.01, max: 300, noNaN: true }),
      fc.integer({ min: 1, max: 100_000 }),
      (cap, nIn, pIn, pOut, want) => {
        const n = maxTokensWithinCost(cap, nIn, pIn, pOut, want);
        assert.ok(n >= 0 && n <= want);
        if (n > 0) assert.ok((nIn * pIn + n * pOut) / 1e6 <= cap);
        if (n === 0) assert.ok((nIn * pIn + 1 * pOut) / 1e6 > cap * (1 - 1e-9) || want === 0);
      },
    ),
    { numRuns: 5000 },
  );
});

test('max_tokens by time left follows the latency model', () => {
  const lat = { ttftS: 0.5, prefillTps: 1000, decodeTps: 50 };
  assert.equal(maxTokensWithinTime(2.5, 1000, lat, 500), 50);
  assert.equal(maxTokensWithinTime(1.4, 1000, lat, 500), 0);
  assert.equal(maxTokensWithinTime(Infinity, 1000, lat, 500), 500);
});
