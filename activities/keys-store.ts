/**
 * The gateway's API keys and their spend, in the results database but in tables and under a
 * schema version of their own (`ab_keys_schema`), so the results store can change freely.
 *
 * SQLite (better-sqlite3, WAL: several connections and processes share the file) at
 * `<state dir>/results.sqlite` by default; PostgreSQL (`pg`) when
 * AGENTBALANCE_DATABASE_URL is a `postgres://` URL (the same database as the results).
 *
 * Secrets are never stored: only their SHA-256 (a secret is 32 random bytes, so a fast hash is
 * enough; there is nothing to brute-force). A secret names its key id, so lookup is by id and the
 * hash comparison is constant-time.
 *
 * Spend follows the run ledger's discipline: `reserve` books the request's maximum cost before the
 * run starts, inside one transaction that also checks the key's daily and monthly limits (SQLite
 * `BEGIN IMMEDIATE`, PostgreSQL `SELECT … FOR UPDATE` on the key row), so concurrent requests on
 * one key, from any number of gateway processes, cannot pass a limit together; `settle` then
 * replaces the reservation with the run's actual cost (never more: the workflow's ledger keeps
 * the run within its `maxCostUsd`). Each accepted request is one row here: the gateway's record of
 * its run (workflow id, cost, status).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { Pool, type PoolClient } from 'pg';
import { z } from 'zod';
import { stateDir } from '../infra/paths';
import { productEnv } from '../infra/env';

const KEYS_SCHEMA_VERSION = 1;

const positiveFinite = z.number().finite().positive();
export const KeyLimitsSchema = z
  .object({
    /** Spend limit per UTC day (USD). Absent: none. */
    dailyUsd: positiveFinite.optional(),
    /** Spend limit per UTC calendar month (USD). Absent: none. */
    monthlyUsd: positiveFinite.optional(),
    /** Requests per minute. Absent: none. */
    rpm: z.number().int().positive().optional(),
    /** Cost budget of a request that gives none (also what is reserved for it). */
    defaultMaxCostUsd: positiveFinite,
    /** Latency budget of a request that gives none. Absent: unlimited. */
    defaultMaxLatencyS: positiveFinite.optional(),
  })
  .strict();
export type KeyLimits = z.infer<typeof KeyLimitsSchema>;
export const DEFAULT_MAX_COST_USD = 0.01;

export interface ApiKey {
  id: string;
  name: string;
  limits: KeyLimits;
  createdAt: string;
  revokedAt?: string;
}

export interface RequestRow {
  requestId: string;
  keyId: string;
  idempotencyKey?: string;
  /** Hash of what the request asked (model, messages, budgets): a reused idempotency key must ask the same. */
  requestHash?: string;
  workflowId: string;
  model: string;
  reservedUsd: number;
  actualUsd?: number;
  status: 'reserved' | 'settled' | 'released';
  createdAt: number;
}

export type ReserveResult =
  | { kind: 'reserved'; row: RequestRow }
  /** The idempotency key was seen before: the earlier request's row (no new reservation). */
  | { kind: 'existing'; row: RequestRow }
  | { kind: 'limit'; window: 'daily' | 'monthly'; limitUsd: number; spentUsd: number; retryAfterS: number };

export interface KeySpend {
  keyId: string;
  /** Settled cost plus open reservations in the current UTC day / month. */
  dailyUsd: number;
  monthlyUsd: number;
  /** Open reservations (requests still running) included above. */
  reservedUsd: number;
  requests: number;
}

export interface KeyStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly location: string;
  createKey(name: string, limits: KeyLimits): Promise<{ key: ApiKey; secret: string }>;
  listKeys(): Promise<ApiKey[]>;
  getKey(id: string): Promise<ApiKey | undefined>;
  revokeKey(id: string): Promise<boolean>;
  /** The active key a secret belongs to, or undefined (unknown, wrong or revoked). */
  authenticate(secret: string): Promise<ApiKey | undefined>;
  reserve(args: {
    key: ApiKey;
    requestId: string;
    workflowId: string;
    model: string;
    amountUsd: number;
    idempotencyKey?: string;
    requestHash?: string;
    now?: number;
  }): Promise<ReserveResult>;
  /** Books the actual cost of a reserved request; false when it was already settled or released. */
  settle(requestId: string, actualUsd: number, now?: number): Promise<boolean>;
  /** Frees a reservation whose run never spent (rejected input). */
  release(requestId: string, now?: number): Promise<boolean>;
  spend(keyId: string, now?: number): Promise<KeySpend>;
  /** Every request row of a key (or of all keys), oldest first. */
  requests(keyId?: string): Promise<RequestRow[]>;
  close(): Promise<void>;
}

// ---- helpers shared by both backends -------------------------------------------------------------

const SECRET_PREFIX = 'ab';
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
function newKeyId(): string {
  return `key_${randomBytes(6).toString('hex')}`;
}
/** `ab-<key id>-<43 chars of base64url randomness>`. */
function newSecret(id: string): string {
  return `${SECRET_PREFIX}-${id}-${randomBytes(32).toString('base64url')}`;
}
function keyIdOfSecret(secret: string): string | undefined {
  const m = /^ab-(key_[0-9a-f]{12})-[A-Za-z0-9_-]{43}$/.exec(secret);
  return m?.[1];
}
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function dayStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}
function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
function nextDay(now: number): number {
  return dayStart(now) + 86_400_000;
}
function nextMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Decides a reservation from the key's current spend. Pure, shared by both backends. */
export function checkLimits(
  limits: KeyLimits,
  spent: { daily: number; monthly: number; openReservations: number },
  amount: number,
  now: number,
): Extract<ReserveResult, { kind: 'limit' }> | undefined {
  const eps = 1e-12;
  const windows: ['daily' | 'monthly', number | undefined, number, number][] = [
    ['daily', limits.dailyUsd, spent.daily, nextDay(now)],
    ['monthly', limits.monthlyUsd, spent.monthly, nextMonth(now)],
  ];
  for (const [window, limit, used, reset] of windows) {
    if (limit === undefined || used + amount <= limit + eps) continue;
    // Open reservations usually settle below their maximum: try again soon. Otherwise wait for the window.
    const retryAfterS = spent.openReservations > 0 && amount <= limit ? 1 : Math.max(1, Math.ceil((reset - now) / 1000));
    return { kind: 'limit', window, limitUsd: limit, spentUsd: used, retryAfterS };
  }
  return undefined;
}

const KeyRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  secret_hash: z.string(),
  limits: z.string(),
  created_at: z.coerce.number(),
  revoked_at: z.coerce.number().nullable(),
});
function keyFromRecord(rec: unknown): ApiKey & { secretHash: string } {
  const r = KeyRecordSchema.parse(rec);
  return {
    id: r.id,
    name: r.name,
    secretHash: r.secret_hash,
    limits: KeyLimitsSchema.parse(JSON.parse(r.limits)),
    createdAt: new Date(r.created_at).toISOString(),
    ...(r.revoked_at !== null ? { revokedAt: new Date(r.revoked_at).toISOString() } : {}),
  };
}
function publicKey(k: ApiKey & { secretHash?: string }): ApiKey {
  const { secretHash: _h, ...rest } = k;
  return rest;
}

const RequestRecordSchema = z.object({
  request_id: z.string(),
  key_id: z.string(),
  idem_key: z.string().nullable(),
  request_hash: z.string().nullable(),
  workflow_id: z.string(),
  model: z.string(),
  reserved_usd: z.coerce.number(),
  actual_usd: z.coerce.number().nullable(),
  status: z.enum(['reserved', 'settled', 'released']),
  created_at: z.coerce.number(),
});
function requestFromRecord(rec: unknown): RequestRow {
  const r = RequestRecordSchema.parse(rec);
  return {
    requestId: r.request_id,
    keyId: r.key_id,
    ...(r.idem_key !== null ? { idempotencyKey: r.idem_key } : {}),
    ...(r.request_hash !== null ? { requestHash: r.request_hash } : {}),
    workflowId: r.workflow_id,
    model: r.model,
    reservedUsd: r.reserved_usd,
    ...(r.actual_usd !== null ? { actualUsd: r.actual_usd } : {}),
    status: r.status,
    createdAt: r.created_at,
  };
}

// ---- SQL (the same text for both backends: `$n` placeholders) -----------------------------------

const SCHEMA_SQL = [
  `CREATE TABLE IF NOT EXISTS ab_keys_schema (version INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ab_api_keys (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, limits TEXT NOT NULL,
     created_at BIGINT NOT NULL, revoked_at BIGINT)`,
  `CREATE TABLE IF NOT EXISTS ab_key_requests (
     request_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, idem_key TEXT, request_hash TEXT, workflow_id TEXT NOT NULL, model TEXT NOT NULL,
     reserved_usd DOUBLE PRECISION NOT NULL, actual_usd DOUBLE PRECISION, status TEXT NOT NULL,
     created_at BIGINT NOT NULL, settled_at BIGINT)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS ab_key_requests_idem ON ab_key_requests (key_id, idem_key)`,
  `CREATE INDEX IF NOT EXISTS ab_key_requests_window ON ab_key_requests (key_id, created_at)`,
];
const SPENT_SQL = `SELECT
   COALESCE(SUM(CASE WHEN created_at >= $2 THEN (CASE WHEN status = 'settled' THEN actual_usd WHEN status = 'reserved' THEN reserved_usd ELSE 0 END) ELSE 0 END), 0) AS daily,
   COALESCE(SUM(CASE WHEN status = 'settled' THEN actual_usd WHEN status = 'reserved' THEN reserved_usd ELSE 0 END), 0) AS monthly,
   COALESCE(SUM(CASE WHEN status = 'reserved' THEN reserved_usd ELSE 0 END), 0) AS open,
   COUNT(*) AS n
 FROM ab_key_requests WHERE key_id = $1 AND created_at >= $3`;
const INSERT_KEY_SQL = `INSERT INTO ab_api_keys (id, name, secret_hash, limits, created_at) VALUES ($1, $2, $3, $4, $5)`;
const SELECT_KEY_SQL = `SELECT * FROM ab_api_keys WHERE id = $1`;
const LIST_KEYS_SQL = `SELECT * FROM ab_api_keys ORDER BY created_at, id`;
const REVOKE_SQL = `UPDATE ab_api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`;
const SELECT_IDEM_SQL = `SELECT * FROM ab_key_requests WHERE key_id = $1 AND idem_key = $2`;
const INSERT_REQUEST_SQL = `INSERT INTO ab_key_requests (request_id, key_id, idem_key, workflow_id, model, reserved_usd, status, created_at, request_hash)
   VALUES ($1, $2, $3, $4, $5, $6, 'reserved', $7, $8)`;
const SETTLE_SQL = `UPDATE ab_key_requests SET status = 'settled', actual_usd = $2, settled_at = $3 WHERE request_id = $1 AND status = 'reserved'`;
const RELEASE_SQL = `UPDATE ab_key_requests SET status = 'released', actual_usd = 0, settled_at = $2 WHERE request_id = $1 AND status = 'reserved'`;

const SpentSchema = z.object({ daily: z.coerce.number(), monthly: z.coerce.number(), open: z.coerce.number(), n: z.coerce.number() });

/** better-sqlite3 binds named parameters: `$n` becomes `@pn`, bound from the positional values. */
function sqlite(sql: string): string {
  return sql.replace(/\$(\d+)/g, '@p$1');
}
function named(...values: unknown[]): Record<string, unknown> {
  return Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]));
}

// ---- SQLite --------------------------------------------------------------------------------------

export class SqliteKeyStore implements KeyStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(readonly location: string) {
    fs.mkdirSync(path.dirname(location), { recursive: true });
    this.db = new Database(location);
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a crash of the process (the gateway's failure mode); only an
    // OS crash or power loss can drop the last commits. FULL would fsync twice per request while
    // holding the event loop (better-sqlite3 is synchronous).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.transaction(() => {
      for (const s of SCHEMA_SQL) this.db.exec(s);
      const v = this.db.prepare('SELECT version FROM ab_keys_schema').get() as { version: number } | undefined;
      if (!v) this.db.prepare('INSERT INTO ab_keys_schema (version) VALUES (?)').run(KEYS_SCHEMA_VERSION);
      else if (v.version > KEYS_SCHEMA_VERSION) throw new Error(`${location}: keys schema version ${v.version} is newer than this agentbalance (${KEYS_SCHEMA_VERSION})`);
    }).immediate();
  }

  async createKey(name: string, limits: KeyLimits): Promise<{ key: ApiKey; secret: string }> {
    const id = newKeyId();
    const secret = newSecret(id);
    const now = Date.now();
    this.db.prepare(sqlite(INSERT_KEY_SQL)).run(named(id, name, hashSecret(secret), JSON.stringify(KeyLimitsSchema.parse(limits)), now));
    return { key: { id, name, limits, createdAt: new Date(now).toISOString() }, secret };
  }

  private rawKey(id: string) {
    const rec = this.db.prepare(sqlite(SELECT_KEY_SQL)).get(named(id));
    return rec ? keyFromRecord(rec) : undefined;
  }
  async getKey(id: string) {
    const k = this.rawKey(id);
    return k ? publicKey(k) : undefined;
  }
  async listKeys() {
    return this.db.prepare(LIST_KEYS_SQL).all().map((r) => publicKey(keyFromRecord(r)));
  }
  async revokeKey(id: string) {
    return this.db.prepare(sqlite(REVOKE_SQL)).run(named(id, Date.now())).changes > 0;
  }
  async authenticate(secret: string) {
    const id = keyIdOfSecret(secret);
    const k = id ? this.rawKey(id) : undefined;
    if (!k || k.revokedAt || !sameHash(k.secretHash, hashSecret(secret))) return undefined;
    return publicKey(k);
  }

  async reserve(args: Parameters<KeyStore['reserve']>[0]): Promise<ReserveResult> {
    const now = args.now ?? Date.now();
    // BEGIN IMMEDIATE takes the write lock first: no other connection can book in between.
    return this.db
      .transaction((): ReserveResult => {
        if (args.idempotencyKey !== undefined) {
          const prev = this.db.prepare(sqlite(SELECT_IDEM_SQL)).get(named(args.key.id, args.idempotencyKey));
          if (prev) return { kind: 'existing', row: requestFromRecord(prev) };
        }
        const s = SpentSchema.parse(this.db.prepare(sqlite(SPENT_SQL)).get(named(args.key.id, dayStart(now), monthStart(now))));
        const over = checkLimits(args.key.limits, { daily: s.daily, monthly: s.monthly, openReservations: s.open }, args.amountUsd, now);
        if (over) return over;
        this.db
          .prepare(sqlite(INSERT_REQUEST_SQL))
          .run(named(args.requestId, args.key.id, args.idempotencyKey ?? null, args.workflowId, args.model, args.amountUsd, now, args.requestHash ?? null));
        return { kind: 'reserved', row: requestFromRecord(this.db.prepare('SELECT * FROM ab_key_requests WHERE request_id = ?').get(args.requestId)) };
      })
      .immediate();
  }

  async settle(requestId: string, actualUsd: number, now = Date.now()) {
    return this.db.prepare(sqlite(SETTLE_SQL)).run(named(requestId, actualUsd, now)).changes > 0;
  }
  async release(requestId: string, now = Date.now()) {
    return this.db.prepare(sqlite(RELEASE_SQL)).run(named(requestId, now)).changes > 0;
  }
  async spend(keyId: string, now = Date.now()): Promise<KeySpend> {
    const s = SpentSchema.parse(this.db.prepare(sqlite(SPENT_SQL)).get(named(keyId, dayStart(now), monthStart(now))));
    return { keyId, dailyUsd: s.daily, monthlyUsd: s.monthly, reservedUsd: s.open, requests: s.n };
  }
  async requests(keyId?: string) {
    const rows = keyId
      ? this.db.prepare('SELECT * FROM ab_key_requests WHERE key_id = ? ORDER BY created_at, request_id').all(keyId)
      : this.db.prepare('SELECT * FROM ab_key_requests ORDER BY created_at, request_id').all();
    return rows.map(requestFromRecord);
  }
  async close() {
    this.db.close();
  }
}

// ---- PostgreSQL ----------------------------------------------------------------------------------

class PostgresKeyStore implements KeyStore {
  readonly kind = 'postgres' as const;
  private ready: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    readonly location: string,
  ) {}

  private async init(): Promise<void> {
    this.ready ??= this.tx(async (c) => {
      // One schema creation at a time across processes.
      await c.query(`SELECT pg_advisory_xact_lock(4711016)`);
      for (const s of SCHEMA_SQL) await c.query(s);
      const v = await c.query('SELECT version FROM ab_keys_schema');
      if (v.rows.length === 0) await c.query('INSERT INTO ab_keys_schema (version) VALUES ($1)', [KEYS_SCHEMA_VERSION]);
      else if (Number(v.rows[0].version) > KEYS_SCHEMA_VERSION) throw new Error(`keys schema version ${v.rows[0].version} is newer than this agentbalance`);
    });
    return this.ready;
  }
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
  private async q(sql: string, params: unknown[] = []) {
    await this.init();
    return (await this.pool.query(sql, params)).rows;
  }

  async createKey(name: string, limits: KeyLimits) {
    const id = newKeyId();
    const secret = newSecret(id);
    const now = Date.now();
    await this.q(INSERT_KEY_SQL, [id, name, hashSecret(secret), JSON.stringify(KeyLimitsSchema.parse(limits)), now]);
    return { key: { id, name, limits, createdAt: new Date(now).toISOString() }, secret };
  }
  private async rawKey(id: string) {
    const rows = await this.q(SELECT_KEY_SQL, [id]);
    return rows[0] ? keyFromRecord(rows[0]) : undefined;
  }
  async getKey(id: string) {
    const k = await this.rawKey(id);
    return k ? publicKey(k) : undefined;
  }
  async listKeys() {
    return (await this.q(LIST_KEYS_SQL)).map((r) => publicKey(keyFromRecord(r)));
  }
  async revokeKey(id: string) {
    await this.init();
    return ((await this.pool.query(REVOKE_SQL, [id, Date.now()])).rowCount ?? 0) > 0;
  }
  async authenticate(secret: string) {
    const id = keyIdOfSecret(secret);
    const k = id ? await this.rawKey(id) : undefined;
    if (!k || k.revokedAt || !sameHash(k.secretHash, hashSecret(secret))) return undefined;
    return publicKey(k);
  }
  async reserve(args: Parameters<KeyStore['reserve']>[0]): Promise<ReserveResult> {
    await this.init();
    const now = args.now ?? Date.now();
    return this.tx(async (c) => {
      // The key row's lock serialises reservations on one key across every gateway.
      await c.query('SELECT id FROM ab_api_keys WHERE id = $1 FOR UPDATE', [args.key.id]);
      if (args.idempotencyKey !== undefined) {
        const prev = await c.query(SELECT_IDEM_SQL, [args.key.id, args.idempotencyKey]);
        if (prev.rows[0]) return { kind: 'existing', row: requestFromRecord(prev.rows[0]) };
      }
      const s = SpentSchema.parse((await c.query(SPENT_SQL, [args.key.id, dayStart(now), monthStart(now)])).rows[0]);
      const over = checkLimits(args.key.limits, { daily: s.daily, monthly: s.monthly, openReservations: s.open }, args.amountUsd, now);
      if (over) return over;
      await c.query(INSERT_REQUEST_SQL, [args.requestId, args.key.id, args.idempotencyKey ?? null, args.workflowId, args.model, args.amountUsd, now, args.requestHash ?? null]);
      const row = await c.query('SELECT * FROM ab_key_requests WHERE request_id = $1', [args.requestId]);
      return { kind: 'reserved', row: requestFromRecord(row.rows[0]) };
    });
  }
  async settle(requestId: string, actualUsd: number, now = Date.now()) {
    await this.init();
    return ((await this.pool.query(SETTLE_SQL, [requestId, actualUsd, now])).rowCount ?? 0) > 0;
  }
  async release(requestId: string, now = Date.now()) {
    await this.init();
    return ((await this.pool.query(RELEASE_SQL, [requestId, now])).rowCount ?? 0) > 0;
  }
  async spend(keyId: string, now = Date.now()): Promise<KeySpend> {
    const s = SpentSchema.parse((await this.q(SPENT_SQL, [keyId, dayStart(now), monthStart(now)]))[0]);
    return { keyId, dailyUsd: s.daily, monthlyUsd: s.monthly, reservedUsd: s.open, requests: s.n };
  }
  async requests(keyId?: string) {
    const rows = keyId
      ? await this.q('SELECT * FROM ab_key_requests WHERE key_id = $1 ORDER BY created_at, request_id', [keyId])
      : await this.q('SELECT * FROM ab_key_requests ORDER BY created_at, request_id');
    return rows.map(requestFromRecord);
  }
  async close() {
    await this.pool.end();
  }
}

function defaultKeysPath(): string {
  return path.join(stateDir(), 'results.sqlite');
}

/** The key store: PostgreSQL when AGENTBALANCE_DATABASE_URL is set, else SQLite in the state folder. */
export async function openKeyStore(opts: { url?: string; sqlitePath?: string } = {}): Promise<KeyStore> {
  const url = opts.url ?? productEnv().AGENTBALANCE_DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const safe = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    const store = new PostgresKeyStore(new Pool({ connectionString: url, max: 8 }), safe);
    await store.listKeys(); // connects and creates the schema now: a bad URL fails here
    return store;
  }
  return new SqliteKeyStore(opts.sqlitePath ?? defaultKeysPath());
}
