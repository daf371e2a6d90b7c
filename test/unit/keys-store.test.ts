import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { checkLimits, dayStart, hashSecret, openKeyStore, SqliteKeyStore, type KeyStore } from '../../activities/keys-store';
import { startPostgres, type PgServer } from '../support/postgres';

const run = promisify(execFile);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ab-keys-'));

/** The contract both backends meet. */
async function contract(open: () => Promise<KeyStore>): Promise<void> {
  const s = await open();
  try {
    const { key, secret } = await s.createKey('team-a', { defaultMaxCostUsd: 0.01, dailyUsd: 0.05, monthlyUsd: 0.055 });
    assert.match(secret, /^ab-key_[0-9a-f]{12}-/);
    assert.equal((await s.authenticate(secret))?.id, key.id);
    assert.equal(await s.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), undefined, 'a wrong secret');
    assert.equal(await s.authenticate('sk-whatever'), undefined);
    assert.equal(JSON.stringify(await s.listKeys()).includes(secret), false, 'listing never shows the secret');
    assert.equal(JSON.stringify(await s.listKeys()).includes(hashSecret(secret)), false, 'nor its hash');

    // Reserve, settle below the reservation, release; the windows count settled + open.
    const now = Date.UTC(2026, 5, 15, 12);
    const r1 = await s.reserve({ key, requestId: 'r1', workflowId: 'w1', model: 'm', amountUsd: 0.03, now });
    assert.equal(r1.kind, 'reserved');
    const r2 = await s.reserve({ key, requestId: 'r2', workflowId: 'w2', model: 'm', amountUsd: 0.03, now });
    assert.equal(r2.kind, 'limit', '0.03 + 0.03 > 0.05 daily');
    if (r2.kind === 'limit') {
      assert.equal(r2.window, 'daily');
      assert.equal(r2.retryAfterS, 1, 'an open reservation may settle lower soon');
    }
    assert.equal(await s.settle('r1', 0.01, now), true);
    assert.equal(await s.settle('r1', 0.02, now), false, 'settles once');
    const r3 = await s.reserve({ key, requestId: 'r3', workflowId: 'w3', model: 'm', amountUsd: 0.03, now, idempotencyKey: 'abc' });
    assert.equal(r3.kind, 'reserved');
    const again = await s.reserve({ key, requestId: 'r4', workflowId: 'w4', model: 'm', amountUsd: 0.03, now, idempotencyKey: 'abc' });
    assert.equal(again.kind, 'existing');
    if (again.kind === 'existing') assert.equal(again.row.requestId, 'r3');
    assert.equal(await s.release('r3', now), true);
    let spend = await s.spend(key.id, now);
    assert.ok(Math.abs(spend.dailyUsd - 0.01) < 1e-12);
    assert.equal(spend.reservedUsd, 0);
    // The next day the daily window is empty, the month is not: 0.01 + 0.04 fits the month's 0.055, another 0.01 does not.
    const tomorrow = now + 86_400_000;
    assert.equal((await s.reserve({ key, requestId: 'r5', workflowId: 'w5', model: 'm', amountUsd: 0.04, now: tomorrow })).kind, 'reserved');
    await s.settle('r5', 0.04, tomorrow);
    const r6 = await s.reserve({ key, requestId: 'r6', workflowId: 'w6', model: 'm', amountUsd: 0.01, now: tomorrow });
    assert.equal(r6.kind, 'limit');
    if (r6.kind === 'limit') {
      assert.equal(r6.window, 'monthly');
      assert.equal(r6.retryAfterS, Math.ceil((Date.UTC(2026, 6, 1) - tomorrow) / 1000), 'wait for the next month');
    }
    spend = await s.spend(key.id, tomorrow);
    assert.ok(Math.abs(spend.monthlyUsd - 0.05) < 1e-12);
    assert.equal((await s.requests(key.id)).length, 3, 'r1, r3, r5: refusals and replays add no row');

    assert.equal(await s.revokeKey(key.id), true);
    assert.equal(await s.authenticate(secret), undefined, 'revoked');
    assert.ok((await s.getKey(key.id))?.revokedAt);
  } finally {
    await s.close();
  }
}

test('checkLimits: retry-after is the window reset without open reservations', () => {
  const now = Date.UTC(2026, 0, 31, 23, 59, 30);
  const over = checkLimits({ defaultMaxCostUsd: 1, dailyUsd: 1 }, { daily: 0.5, monthly: 0.5, openReservations: 0 }, 0.6, now);
  assert.equal(over?.retryAfterS, 30);
  assert.equal(checkLimits({ defaultMaxCostUsd: 1, dailyUsd: 1 }, { daily: 0.4, monthly: 0.4, openReservations: 0 }, 0.6, now), undefined);
  assert.equal(dayStart(now), Date.UTC(2026, 0, 31));
});

test('sqlite key store: contract, secrets never on disk', async () => {
  const dir = tmp();
  const file = path.join(dir, 'gateway.sqlite');
  await contract(async () => new SqliteKeyStore(file));
  const s = new SqliteKeyStore(file);
  const { secret } = await s.createKey('b', { defaultMaxCostUsd: 0.01 });
  await s.close();
  for (const f of fs.readdirSync(dir)) assert.equal(fs.readFileSync(path.join(dir, f)).includes(secret), false, `${f} holds no secret`);
});

test('sqlite key store: 4 processes racing reservations on one key never pass its limit', async () => {
  const file = path.join(tmp(), 'gateway.sqlite');
  const s = new SqliteKeyStore(file);
  const { key } = await s.createKey('race', { defaultMaxCostUsd: 0.001, dailyUsd: 0.01 });
  const outs = await Promise.all(
    [0, 1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/reserve-child.ts'), file, key.id, '10', '0.001'])),
  );
  const accepted = outs.reduce((n, o) => n + Number(o.stdout), 0);
  assert.equal(accepted, 10, 'exactly limit / amount reservations succeed across processes');
  assert.ok((await s.spend(key.id)).dailyUsd <= 0.01 + 1e-12);
  await s.close();
});

let pg: PgServer | undefined;
before(async () => {
  pg = await startPostgres();
});
after(() => pg?.stop());

test('postgres key store: contract and concurrent reservations (throwaway local server)', async (t) => {
  if (!pg) {
    t.skip('no local PostgreSQL binaries (in CI, startPostgres fails instead)');
    return;
  }
  await contract(() => openKeyStore({ url: pg!.url }));
  // Many connections at once: the key row's lock serialises them.
  const stores = await Promise.all([0, 1, 2, 3].map(() => openKeyStore({ url: pg!.url })));
  const { key } = await stores[0]!.createKey('race', { defaultMaxCostUsd: 0.001, dailyUsd: 0.01 });
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => stores[i % 4]!.reserve({ key, requestId: `pg-${i}`, workflowId: `w-${i}`, model: 'm', amountUsd: 0.001 })),
  );
  assert.equal(results.filter((r) => r.kind === 'reserved').length, 10);
  assert.ok((await stores[0]!.spend(key.id)).dailyUsd <= 0.01 + 1e-12);
  await Promise.all(stores.map((s) => s.close()));
});
