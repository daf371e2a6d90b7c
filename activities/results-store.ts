/**
 * The campaign results store: one row per (campaign, run key), written with
 * `INSERT … ON CONFLICT DO UPDATE`, so a retried activity never double-counts a run.
 *
 * Default backend: an SQLite file through better-sqlite3 in WAL mode: each finished run is one
 * small committed insert (no file image rewritten), readers never block the writer, and several
 * processes can write the same file at once (SQLite's own locking; a writer waits up to
 * SQLITE_BUSY_TIMEOUT_MS for another's transaction).
 *
 * PostgreSQL (`pg`) when a `postgres://` URL is given (or AGENTBALANCE_DATABASE_URL is set): the
 * same schema and the same SQL text (`$n` placeholders, positional `?` for SQLite).
 *
 * The schema is versioned (table `ab_schema`, MIGRATIONS below): opening an older database
 * upgrades it in one transaction; a database from a newer agentbalance is refused with a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import Database, { type Database as DatabaseType, type Statement } from 'better-sqlite3';
import { Pool } from 'pg';
import { BudgetKindSchema, CampaignMetaSchema, type CampaignMeta } from '../core/campaign/spec';
import type { RunOutcome } from '../core/campaign/statistics';
import type { AgentTrace } from '../core/mas';
import { stateDir } from '../infra/paths';
import { productEnv } from '../infra/env';

/** One stored run. `agents` are the run's agent traces (texts truncated, see `agentTextChars`). */
export interface RunRow extends RunOutcome {
  campaignId: string;
  runKeyId: string;
  simulated: boolean;
  agents: AgentTrace[];
  /** ISO timestamp. */
  finishedAt: string;
  /** Set when the run failed (stored so the campaign goes on; counted as `failed` in the report). */
  error?: RunError | null;
}

/** Why a run failed: the error's class (or Temporal failure type) and a one-line message. */
export interface RunError {
  class: string;
  message: string;
}

const finite = z.number().finite();
const RunRowSchema = z
  .object({
    campaignId: z.string().min(1),
    runKeyId: z.string().min(1),
    method: z.string().min(1),
    budgetKind: BudgetKindSchema,
    budget: finite.positive(),
    taskId: z.string().min(1),
    correct: z.boolean().nullable(),
    costUsd: finite.nonnegative(),
    latencyS: finite.nonnegative(),
    deadlineHit: z.boolean(),
    budgetExhausted: z.boolean(),
    simulated: z.boolean(),
    agents: z.array(z.looseObject({ id: z.string() })),
    finishedAt: z.string().min(1),
    error: z.object({ class: z.string().min(1).max(200), message: z.string().max(1000) }).nullable().optional(),
    failed: z.boolean().optional(),
  })
  .strict();

interface CampaignListing {
  meta: CampaignMeta;
  /** Runs stored for it. */
  runs: number;
}

export interface ResultsStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the data lives (file path, or the URL without its password). */
  readonly location: string;
  upsertRun(row: RunRow): Promise<void>;
  /** Several rows in one write. */
  upsertRuns(rows: readonly RunRow[]): Promise<void>;
  /** Every run of a campaign, ordered by run key id. */
  getRuns(campaignId: string, opts?: { agents?: boolean }): Promise<RunRow[]>;
  /** Stored run keys of a campaign (only those in `among`, when given: cheap for a window). */
  completedRunKeys(campaignId: string, among?: readonly string[]): Promise<Set<string>>;
  /** Counts and sums computed by the database (no rows loaded). */
  campaignTotals(campaignId: string): Promise<CampaignTotals>;
  /** Forgets a campaign's stored runs of these methods (so the campaign runs them again); returns how many. */
  deleteRuns(campaignId: string, methods: readonly string[]): Promise<number>;
  saveCampaign(meta: CampaignMeta): Promise<void>;
  getCampaign(id: string): Promise<CampaignMeta | undefined>;
  upsertProfileObservation(profileId: string, obs: ProfileObservationRow): Promise<void>;
  /** Stored observation keys of a profiling job (only those in `among`, when given). */
  profileObservationKeys(profileId: string, among?: readonly string[]): Promise<Set<string>>;
  getProfileObservations(profileId: string): Promise<ProfileObservationRow[]>;
  /** Every campaign, oldest first. */
  listCampaigns(): Promise<CampaignListing[]>;
  close(): Promise<void>;
}

/** One profiling call's outcome, keyed `backbone|item`. */
interface ProfileObservationRow {
  key: string;
  correct: boolean;
  inputTokens: number;
  outputTokens: number;
  latencyS: number;
}

const UPSERT_PROFILE_OBS_SQL = `INSERT INTO ab_profile_obs (profile_id, obs_key, correct, input_tokens, output_tokens, latency_s) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (profile_id, obs_key) DO UPDATE SET correct = excluded.correct, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, latency_s = excluded.latency_s`;
const SELECT_PROFILE_OBS_SQL = `SELECT obs_key, correct, input_tokens, output_tokens, latency_s FROM ab_profile_obs WHERE profile_id = $1 ORDER BY obs_key`;

function profileObsParams(profileId: string, o: ProfileObservationRow): SqlValue[] {
  return [profileId, o.key, o.correct ? 1 : 0, Math.round(num(o.inputTokens)), Math.round(num(o.outputTokens)), num(o.latencyS)];
}
function profileObsFrom(r: Record<string, unknown>): ProfileObservationRow {
  return { key: String(r.obs_key), correct: num(r.correct) !== 0, inputTokens: num(r.input_tokens), outputTokens: num(r.output_tokens), latencyS: num(r.latency_s) };
}

interface CampaignTotals {
  runs: number;
  correct: number;
  failed: number;
  costUsd: number;
}

export interface ResultsStoreOptions {
  /** SQLite file; default `<state dir>/results.sqlite`. */
  sqlitePath?: string;
  /** `postgres://…` or `postgresql://…`; takes precedence over `sqlitePath`. */
  databaseUrl?: string;
  /** Agent texts longer than this are truncated before storing (default 500; 0 drops them). */
  agentTextChars?: number;
}

const DATABASE_URL_ENV = 'AGENTBALANCE_DATABASE_URL';
const DEFAULT_AGENT_TEXT_CHARS = 500;

// ---------------------------------------------------------------------------------------------
// SQL shared by both backends.

const RUN_COLUMNS = [
  'campaign_id',
  'run_key_id',
  'method',
  'budget_kind',
  'budget',
  'task_id',
  'correct',
  'cost_usd',
  'latency_s',
  'deadline_hit',
  'budget_exhausted',
  'simulated',
  'agents',
  'finished_at',
  'error_class',
  'error_message',
] as const;

/** Version 1: the tables as first released (no ab_schema table yet). */
const SCHEMA_V1: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS ab_campaigns (
  id TEXT PRIMARY KEY,
  meta TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
)`,
  `CREATE TABLE IF NOT EXISTS ab_runs (
  campaign_id TEXT NOT NULL,
  run_key_id TEXT NOT NULL,
  method TEXT NOT NULL,
  budget_kind TEXT NOT NULL CHECK (budget_kind IN ('cost', 'latency')),
  budget DOUBLE PRECISION NOT NULL,
  task_id TEXT NOT NULL,
  correct INTEGER,
  cost_usd DOUBLE PRECISION NOT NULL,
  latency_s DOUBLE PRECISION NOT NULL,
  deadline_hit INTEGER NOT NULL,
  budget_exhausted INTEGER NOT NULL,
  simulated INTEGER NOT NULL,
  agents TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  PRIMARY KEY (campaign_id, run_key_id)
)`,
  `CREATE INDEX IF NOT EXISTS ab_runs_by_point ON ab_runs (campaign_id, method, budget_kind, budget)`,
];

/** Schema versions in order; each step runs once, inside the opening transaction. */
export const MIGRATIONS: readonly { version: number; sql: readonly string[] }[] = [
  { version: 1, sql: SCHEMA_V1 },
  {
    version: 2,
    sql: [
      `ALTER TABLE ab_runs ADD COLUMN error_class TEXT`,
      `ALTER TABLE ab_runs ADD COLUMN error_message TEXT`,
    ],
  },
  {
    // Profiling calls, one row per (profile, backbone|item): the profile workflow's source of truth.
    version: 3,
    sql: [
      `CREATE TABLE IF NOT EXISTS ab_profile_obs (
  profile_id TEXT NOT NULL,
  obs_key TEXT NOT NULL,
  correct INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  latency_s DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (profile_id, obs_key)
)`,
    ],
  },
];
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
/** The version table (outside the migrations: it records which of them ran). */
const VERSION_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ab_schema (version INTEGER NOT NULL)`;
/** Every statement that creates the current schema on an empty database. */
export const SCHEMA_SQL: readonly string[] = [...MIGRATIONS.flatMap((m) => m.sql), VERSION_TABLE_SQL];

function checkVersion(version: number, where: string): void {
  if (version > SCHEMA_VERSION)
    throw new Error(
      `results store ${where} has schema version ${version}, newer than this agentbalance understands (${SCHEMA_VERSION}): upgrade agentbalance, or point AGENTBALANCE_STATE_DIR / ${DATABASE_URL_ENV} elsewhere`,
    );
}

export const UPSERT_RUN_SQL = `INSERT INTO ab_runs (${RUN_COLUMNS.join(', ')})
VALUES (${RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
ON CONFLICT (campaign_id, run_key_id) DO UPDATE SET ${RUN_COLUMNS.slice(2)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

const SELECT_RUNS_SQL = `SELECT ${RUN_COLUMNS.join(', ')} FROM ab_runs WHERE campaign_id = $1 ORDER BY run_key_id`;
const SELECT_RUNS_NO_AGENTS_SQL = `SELECT ${RUN_COLUMNS.map((c) => (c === 'agents' ? `'[]' AS agents` : c)).join(', ')} FROM ab_runs WHERE campaign_id = $1 ORDER BY run_key_id`;
const SELECT_RUN_KEYS_SQL = `SELECT run_key_id FROM ab_runs WHERE campaign_id = $1`;
const TOTALS_SQL = `SELECT CAST(COUNT(*) AS INTEGER) AS runs, CAST(COALESCE(SUM(CASE WHEN correct = 1 THEN 1 ELSE 0 END), 0) AS INTEGER) AS correct,
CAST(COALESCE(SUM(CASE WHEN error_class IS NOT NULL THEN 1 ELSE 0 END), 0) AS INTEGER) AS failed, COALESCE(SUM(cost_usd), 0) AS cost_usd
FROM ab_runs WHERE campaign_id = $1`;
const UPSERT_CAMPAIGN_SQL = `INSERT INTO ab_campaigns (id, meta, created_at, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET meta = excluded.meta, updated_at = excluded.updated_at`;
const SELECT_CAMPAIGN_SQL = `SELECT meta FROM ab_campaigns WHERE id = $1`;
const LIST_CAMPAIGNS_SQL = `SELECT c.meta AS meta, CAST((SELECT COUNT(*) FROM ab_runs r WHERE r.campaign_id = c.id) AS INTEGER) AS runs
FROM ab_campaigns c ORDER BY c.created_at, c.id`;

type SqlValue = string | number | null;

function truncateAgents(agents: readonly AgentTrace[], maxChars: number): AgentTrace[] {
  return agents.map((a) => {
    if (a.text === undefined || a.text.length <= maxChars) return a;
    if (maxChars <= 0) {
      const rest: AgentTrace = { ...a };
      delete rest.text;
      return rest;
    }
    return { ...a, text: `${a.text.slice(0, maxChars)}…` };
  });
}

/** Positional parameters of UPSERT_RUN_SQL for a row (validated first). */
export function runParams(row: RunRow, agentTextChars = DEFAULT_AGENT_TEXT_CHARS): SqlValue[] {
  const r = RunRowSchema.parse(row);
  return [
    r.campaignId,
    r.runKeyId,
    r.method,
    r.budgetKind,
    r.budget,
    r.taskId,
    r.correct === null ? null : r.correct ? 1 : 0,
    r.costUsd,
    r.latencyS,
    r.deadlineHit ? 1 : 0,
    r.budgetExhausted ? 1 : 0,
    r.simulated ? 1 : 0,
    JSON.stringify(truncateAgents(row.agents, agentTextChars)),
    r.finishedAt,
    r.error ? r.error.class : null,
    r.error ? r.error.message : null,
  ];
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`results store: expected a number, got ${String(v)}`);
  return n;
}

function runFromRecord(rec: Record<string, unknown>): RunRow {
  const kind = BudgetKindSchema.parse(rec.budget_kind);
  return {
    campaignId: String(rec.campaign_id),
    runKeyId: String(rec.run_key_id),
    method: String(rec.method),
    budgetKind: kind,
    budget: num(rec.budget),
    taskId: String(rec.task_id),
    correct: rec.correct === null || rec.correct === undefined ? null : num(rec.correct) !== 0,
    costUsd: num(rec.cost_usd),
    latencyS: num(rec.latency_s),
    deadlineHit: num(rec.deadline_hit) !== 0,
    budgetExhausted: num(rec.budget_exhausted) !== 0,
    simulated: num(rec.simulated) !== 0,
    agents: JSON.parse(String(rec.agents)) as AgentTrace[],
    finishedAt: String(rec.finished_at),
    ...(rec.error_class !== null && rec.error_class !== undefined
      ? { error: { class: String(rec.error_class), message: String(rec.error_message ?? '') }, failed: true }
      : {}),
  };
}

function totalsFrom(r: Record<string, unknown>): CampaignTotals {
  return { runs: num(r.runs), correct: num(r.correct), failed: num(r.failed), costUsd: num(r.cost_usd) };
}

function campaignParams(meta: CampaignMeta, now: string): SqlValue[] {
  const m = CampaignMetaSchema.parse(meta);
  return [m.id, JSON.stringify(m), m.createdAt, now];
}

function parseMeta(text: unknown): CampaignMeta {
  return CampaignMetaSchema.parse(JSON.parse(String(text)));
}

// ---------------------------------------------------------------------------------------------
// SQLite (better-sqlite3) backend.

/** How long a writer waits for another process's write transaction before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 30_000;

class SqliteResultsStore implements ResultsStore {
  readonly kind = 'sqlite' as const;
  private closed = false;
  private readonly upsert: Statement;

  private constructor(
    readonly location: string,
    private readonly db: DatabaseType,
    private readonly agentTextChars: number,
  ) {
    this.upsert = db.prepare(UPSERT_RUN_SQL_SQLITE);
  }

  static open(file: string, opts: { agentTextChars?: number } = {}): Promise<SqliteResultsStore> {
    try {
      const abs = path.resolve(file);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      const db = new Database(abs, { timeout: SQLITE_BUSY_TIMEOUT_MS });
      try {
        // WAL: readers never block the writer, a crash leaves the last committed state; NORMAL
        // sync in WAL mode never corrupts the file (a power cut may lose the last commits, which a
        // campaign re-runs because the store decides what is done).
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        migrateSqlite(db, abs);
      } catch (err) {
        db.close();
        throw err;
      }
      return Promise.resolve(new SqliteResultsStore(abs, db, opts.agentTextChars ?? DEFAULT_AGENT_TEXT_CHARS));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('results store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  upsertRun(row: RunRow): Promise<void> {
    return this.upsertRuns([row]);
  }

  upsertRuns(rows: readonly RunRow[]): Promise<void> {
    return this.run(() => {
      const params = rows.map((r) => runParams(r, this.agentTextChars));
      if (params.length === 1) this.upsert.run(params[0]);
      else if (params.length > 1) this.db.transaction(() => params.forEach((p) => this.upsert.run(p)))();
    });
  }

  getRuns(campaignId: string, opts: { agents?: boolean } = {}): Promise<RunRow[]> {
    const sql = opts.agents === false ? SELECT_RUNS_NO_AGENTS_SQL : SELECT_RUNS_SQL;
    return this.run(() => (this.db.prepare(toSqlite(sql)).all(campaignId) as Record<string, unknown>[]).map(runFromRecord));
  }

  completedRunKeys(campaignId: string, among?: readonly string[]): Promise<Set<string>> {
    return this.run(() => {
      if (among === undefined) {
        return new Set((this.db.prepare(toSqlite(SELECT_RUN_KEYS_SQL)).pluck().all(campaignId) as string[]).map(String));
      }
      const st = this.db.prepare('SELECT 1 FROM ab_runs WHERE campaign_id = ? AND run_key_id = ?').pluck();
      return new Set(among.filter((k) => st.get(campaignId, k) !== undefined));
    });
  }

  campaignTotals(campaignId: string): Promise<CampaignTotals> {
    return this.run(() => totalsFrom(this.db.prepare(toSqlite(TOTALS_SQL)).get(campaignId) as Record<string, unknown>));
  }
  deleteRuns(campaignId: string, methods: readonly string[]): Promise<number> {
    return this.run(() => {
      const st = this.db.prepare('DELETE FROM ab_runs WHERE campaign_id = ? AND method = ?');
      return this.db.transaction(() => methods.reduce((n, m) => n + st.run(campaignId, m).changes, 0))();
    });
  }


  saveCampaign(meta: CampaignMeta): Promise<void> {
    return this.run(() => void this.db.prepare(toSqlite(UPSERT_CAMPAIGN_SQL)).run(campaignParams(meta, new Date().toISOString())));
  }

  getCampaign(id: string): Promise<CampaignMeta | undefined> {
    return this.run(() => {
      const r = this.db.prepare(toSqlite(SELECT_CAMPAIGN_SQL)).get(id) as Record<string, unknown> | undefined;
      return r ? parseMeta(r.meta) : undefined;
    });
  }

  upsertProfileObservation(profileId: string, obs: ProfileObservationRow): Promise<void> {
    return this.run(() => void this.db.prepare(toSqlite(UPSERT_PROFILE_OBS_SQL)).run(profileObsParams(profileId, obs)));
  }

  profileObservationKeys(profileId: string, among?: readonly string[]): Promise<Set<string>> {
    return this.run(() => {
      if (among === undefined)
        return new Set(this.db.prepare('SELECT obs_key FROM ab_profile_obs WHERE profile_id = ?').pluck().all(profileId) as string[]);
      const st = this.db.prepare('SELECT 1 FROM ab_profile_obs WHERE profile_id = ? AND obs_key = ?').pluck();
      return new Set(among.filter((k) => st.get(profileId, k) !== undefined));
    });
  }

  getProfileObservations(profileId: string): Promise<ProfileObservationRow[]> {
    return this.run(() => (this.db.prepare(toSqlite(SELECT_PROFILE_OBS_SQL)).all(profileId) as Record<string, unknown>[]).map(profileObsFrom));
  }

  listCampaigns(): Promise<CampaignListing[]> {
    return this.run(() =>
      (this.db.prepare(LIST_CAMPAIGNS_SQL).all() as Record<string, unknown>[]).map((r) => ({ meta: parseMeta(r.meta), runs: num(r.runs) })),
    );
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}

/** `$n` placeholders (the shared SQL text, each used once, in order) as SQLite's positional `?`. */
function toSqlite(sql: string): string {
  return sql.replace(/\$\d+/g, '?');
}
const UPSERT_RUN_SQL_SQLITE = toSqlite(UPSERT_RUN_SQL);

/** Brings an SQLite file to SCHEMA_VERSION inside one immediate (write-locked) transaction. */
function migrateSqlite(db: DatabaseType, where: string): void {
  db.transaction(() => {
    const version = sqliteVersion(db);
    checkVersion(version, where);
    if (version === SCHEMA_VERSION) return;
    for (const m of MIGRATIONS.filter((x) => x.version > version)) for (const s of m.sql) db.exec(s);
    db.exec(VERSION_TABLE_SQL);
    db.prepare('DELETE FROM ab_schema').run();
    db.prepare('INSERT INTO ab_schema (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate();
}

function sqliteVersion(db: DatabaseType): number {
  const has = (t: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(t) !== undefined;
  if (has('ab_schema')) return num(db.prepare('SELECT MAX(version) FROM ab_schema').pluck().get() ?? 0);
  // Databases from before versioning have the v1 tables and no ab_schema table.
  return has('ab_runs') ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL backend.

/** Key of the advisory lock that serialises schema creation across processes. */
const SCHEMA_LOCK_KEY = 0x61625f73; // 'ab_s'

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

class PostgresResultsStore implements ResultsStore {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(
    readonly location: string,
    private readonly pool: Pool,
    private readonly agentTextChars: number,
  ) {}

  static async open(url: string, opts: { agentTextChars?: number } = {}): Promise<PostgresResultsStore> {
    const pool = new Pool({ connectionString: url, max: 4 });
    const store = new PostgresResultsStore(redactUrl(url), pool, opts.agentTextChars ?? DEFAULT_AGENT_TEXT_CHARS);
    try {
      await store.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
        const has = async (t: string) => (await c.query('SELECT to_regclass($1) AS t', [t])).rows[0]?.t != null;
        const version = (await has('ab_schema'))
          ? num((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM ab_schema')).rows[0]?.v ?? 0)
          : (await has('ab_runs'))
            ? 1
            : 0;
        checkVersion(version, store.location);
        if (version === SCHEMA_VERSION) return;
        for (const m of MIGRATIONS.filter((x) => x.version > version)) for (const s of m.sql) await c.query(s);
        await c.query(VERSION_TABLE_SQL);
        await c.query('DELETE FROM ab_schema');
        await c.query('INSERT INTO ab_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
      });
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  private async tx<T>(
    fn: (c: { query: (sql: string, params?: SqlValue[]) => Promise<{ rows: Record<string, unknown>[] }> }) => Promise<T>,
  ): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn({ query: (sql, params) => client.query(sql, params) });
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async rows(sql: string, params: SqlValue[]): Promise<Record<string, unknown>[]> {
    if (this.closed) throw new Error('results store is closed');
    return (await this.pool.query(sql, params)).rows as Record<string, unknown>[];
  }

  upsertRun(row: RunRow): Promise<void> {
    return this.upsertRuns([row]);
  }

  async upsertRuns(rows: readonly RunRow[]): Promise<void> {
    if (this.closed) throw new Error('results store is closed');
    const params = rows.map((r) => runParams(r, this.agentTextChars));
    if (params.length === 0) return;
    await this.tx(async (c) => {
      for (const p of params) await c.query(UPSERT_RUN_SQL, p);
    });
  }

  async getRuns(campaignId: string, opts: { agents?: boolean } = {}): Promise<RunRow[]> {
    return (await this.rows(opts.agents === false ? SELECT_RUNS_NO_AGENTS_SQL : SELECT_RUNS_SQL, [campaignId])).map(
      runFromRecord,
    );
  }

  async completedRunKeys(campaignId: string, among?: readonly string[]): Promise<Set<string>> {
    const rows =
      among === undefined
        ? await this.rows(SELECT_RUN_KEYS_SQL, [campaignId])
        : (await this.pool.query('SELECT run_key_id FROM ab_runs WHERE campaign_id = $1 AND run_key_id = ANY($2::text[])', [campaignId, [...among]])).rows as Record<string, unknown>[];
    return new Set(rows.map((r) => String(r.run_key_id)));
  }

  async campaignTotals(campaignId: string): Promise<CampaignTotals> {
    return totalsFrom((await this.rows(TOTALS_SQL, [campaignId]))[0] ?? {});
  }
  async deleteRuns(campaignId: string, methods: readonly string[]): Promise<number> {
    if (this.closed) throw new Error('results store is closed');
    const res = await this.pool.query('DELETE FROM ab_runs WHERE campaign_id = $1 AND method = ANY($2::text[])', [campaignId, [...methods]]);
    return res.rowCount ?? 0;
  }


  async saveCampaign(meta: CampaignMeta): Promise<void> {
    await this.rows(UPSERT_CAMPAIGN_SQL, campaignParams(meta, new Date().toISOString()));
  }

  async getCampaign(id: string): Promise<CampaignMeta | undefined> {
    const r = (await this.rows(SELECT_CAMPAIGN_SQL, [id]))[0];
    return r ? parseMeta(r.meta) : undefined;
  }

  async upsertProfileObservation(profileId: string, obs: ProfileObservationRow): Promise<void> {
    await this.rows(UPSERT_PROFILE_OBS_SQL, profileObsParams(profileId, obs));
  }

  async profileObservationKeys(profileId: string, among?: readonly string[]): Promise<Set<string>> {
    if (this.closed) throw new Error('results store is closed');
    const rows =
      among === undefined
        ? await this.rows('SELECT obs_key FROM ab_profile_obs WHERE profile_id = $1', [profileId])
        : ((await this.pool.query('SELECT obs_key FROM ab_profile_obs WHERE profile_id = $1 AND obs_key = ANY($2::text[])', [profileId, [...among]])).rows as Record<string, unknown>[]);
    return new Set(rows.map((r) => String(r.obs_key)));
  }

  async getProfileObservations(profileId: string): Promise<ProfileObservationRow[]> {
    return (await this.rows(SELECT_PROFILE_OBS_SQL, [profileId])).map(profileObsFrom);
  }

  async listCampaigns(): Promise<CampaignListing[]> {
    return (await this.rows(LIST_CAMPAIGNS_SQL, [])).map((r) => ({ meta: parseMeta(r.meta), runs: num(r.runs) }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

// ---------------------------------------------------------------------------------------------

function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function defaultSqlitePath(): string {
  return path.join(stateDir(), 'results.sqlite');
}

/**
 * Opens the results store: `databaseUrl` (postgres) if given; else `sqlitePath` if given; else
 * AGENTBALANCE_DATABASE_URL if set; else the SQLite file `<state dir>/results.sqlite`.
 */
export async function openResultsStore(opts: ResultsStoreOptions = {}): Promise<ResultsStore> {
  const env = productEnv().AGENTBALANCE_DATABASE_URL;
  const url = opts.databaseUrl ?? (opts.sqlitePath === undefined && env ? env : undefined);
  const storeOpts = opts.agentTextChars !== undefined ? { agentTextChars: opts.agentTextChars } : {};
  if (url !== undefined) {
    if (!isPostgresUrl(url))
      throw new Error(
        `results store: ${opts.databaseUrl !== undefined ? 'databaseUrl' : DATABASE_URL_ENV} must be a postgres:// URL (got ${redactUrl(url)})`,
      );
    return PostgresResultsStore.open(url, storeOpts);
  }
  return SqliteResultsStore.open(opts.sqlitePath ?? defaultSqlitePath(), storeOpts);
}
