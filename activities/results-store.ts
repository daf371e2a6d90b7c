/**
 * The campaign results store: one row per (campaign, run key), written with
 * `INSERT … ON CONFLICT DO UPDATE`, so a retried activity never double-counts a run.
 *
 * Default backend: an SQLite file through sql.js (SQLite compiled to WASM, no native module). sql.js
 * keeps the database in memory, so every write (1) takes an in-process mutex and a cross-process
 * lock file, (2) reloads the file when another process changed it, (3) applies the upserts and
 * (4) writes the whole database to a temporary file that is fsynced and renamed over the original
 * (atomic: readers see the old or the new file, never half of one). Concurrent `upsertRun` calls
 * in one process are grouped into a single write (group commit).
 *
 * PostgreSQL (`pg`) when a `postgres://` URL is given (or AGENTBALANCE_DATABASE_URL is set): the
 * same schema and the same SQL text (`$n` placeholders work in both).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import initSqlJs, { type Database, type SqlJsStatic } from 'sql.js';
import { Pool } from 'pg';
import { BudgetKindSchema, CampaignMetaSchema, type CampaignMeta } from '../core/campaign/spec';
import type { RunOutcome } from '../core/campaign/metrics';
import type { AgentTrace } from '../core/mas';
import { stateDir } from '../infra/paths';

/** One stored run. `agents` are the run's agent traces (texts truncated, see `agentTextChars`). */
export interface RunRow extends RunOutcome {
  campaignId: string;
  runKeyId: string;
  simulated: boolean;
  agents: AgentTrace[];
  /** ISO timestamp. */
  finishedAt: string;
}

const finite = z.number().finite();
export const RunRowSchema = z
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
  })
  .strict();

export interface CampaignListing {
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
  completedRunKeys(campaignId: string): Promise<Set<string>>;
  saveCampaign(meta: CampaignMeta): Promise<void>;
  getCampaign(id: string): Promise<CampaignMeta | undefined>;
  /** Every campaign, oldest first. */
  listCampaigns(): Promise<CampaignListing[]>;
  close(): Promise<void>;
}

export interface ResultsStoreOptions {
  /** SQLite file; default `<state dir>/results.sqlite`. */
  sqlitePath?: string;
  /** `postgres://…` or `postgresql://…`; takes precedence over `sqlitePath`. */
  databaseUrl?: string;
  /** Agent texts longer than this are truncated before storing (default 500; 0 drops them). */
  agentTextChars?: number;
}

export const DATABASE_URL_ENV = 'AGENTBALANCE_DATABASE_URL';
export const DEFAULT_AGENT_TEXT_CHARS = 500;

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
] as const;

export const SCHEMA_SQL: readonly string[] = [
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

export const UPSERT_RUN_SQL = `INSERT INTO ab_runs (${RUN_COLUMNS.join(', ')})
VALUES (${RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
ON CONFLICT (campaign_id, run_key_id) DO UPDATE SET ${RUN_COLUMNS.slice(2)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

export const SELECT_RUNS_SQL = `SELECT ${RUN_COLUMNS.join(', ')} FROM ab_runs WHERE campaign_id = $1 ORDER BY run_key_id`;
export const SELECT_RUNS_NO_AGENTS_SQL = `SELECT ${RUN_COLUMNS.map((c) => (c === 'agents' ? `'[]' AS agents` : c)).join(', ')} FROM ab_runs WHERE campaign_id = $1 ORDER BY run_key_id`;
export const SELECT_RUN_KEYS_SQL = `SELECT run_key_id FROM ab_runs WHERE campaign_id = $1`;
export const UPSERT_CAMPAIGN_SQL = `INSERT INTO ab_campaigns (id, meta, created_at, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET meta = excluded.meta, updated_at = excluded.updated_at`;
export const SELECT_CAMPAIGN_SQL = `SELECT meta FROM ab_campaigns WHERE id = $1`;
export const LIST_CAMPAIGNS_SQL = `SELECT c.meta AS meta, CAST((SELECT COUNT(*) FROM ab_runs r WHERE r.campaign_id = c.id) AS INTEGER) AS runs
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
  ];
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`results store: expected a number, got ${String(v)}`);
  return n;
}

export function runFromRecord(rec: Record<string, unknown>): RunRow {
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
  };
}

function campaignParams(meta: CampaignMeta, now: string): SqlValue[] {
  const m = CampaignMetaSchema.parse(meta);
  return [m.id, JSON.stringify(m), m.createdAt, now];
}

function parseMeta(text: unknown): CampaignMeta {
  return CampaignMetaSchema.parse(JSON.parse(String(text)));
}

/** A promise-chain mutex: callers run one at a time, in call order. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

// ---------------------------------------------------------------------------------------------
// SQLite (sql.js) backend.

let sqlJs: Promise<SqlJsStatic> | undefined;
function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs().catch((err: unknown) => {
    sqlJs = undefined;
    throw err;
  });
  return sqlJs;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lock file held while a process rewrites the database (stale after `staleMs`). */
async function withFileLock<T>(lockPath: string, fn: () => T, staleMs = 60_000, timeoutMs = 120_000): Promise<T> {
  const start = Date.now();
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    try {
      fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        const st = fs.statSync(lockPath);
        if (Date.now() - st.mtimeMs > staleMs) fs.rmSync(lockPath, { force: true });
      } catch {
        // vanished meanwhile: retry
      }
      if (Date.now() - start > timeoutMs) throw new Error(`results store: could not lock ${lockPath} within ${timeoutMs} ms`);
      await sleep(Math.min(100, 2 + attempt * 3));
    }
  }
  try {
    return fn();
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lockPath, { force: true });
  }
}

function fileStamp(p: string): string | undefined {
  try {
    const st = fs.statSync(p);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

interface PendingWrite {
  apply: (db: Database) => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SqliteResultsStore implements ResultsStore {
  readonly kind = 'sqlite' as const;
  private db: Database | undefined;
  private stamp: string | undefined;
  private readonly mutex = new Mutex();
  private pending: PendingWrite[] = [];
  private flushing = false;
  private closed = false;
  private tmpCounter = 0;

  private constructor(
    readonly location: string,
    private readonly SQL: SqlJsStatic,
    private readonly agentTextChars: number,
  ) {}

  static async open(file: string, opts: { agentTextChars?: number } = {}): Promise<SqliteResultsStore> {
    const SQL = await loadSqlJs();
    const abs = path.resolve(file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const store = new SqliteResultsStore(abs, SQL, opts.agentTextChars ?? DEFAULT_AGENT_TEXT_CHARS);
    await store.mutex.run(() => store.refresh());
    return store;
  }

  /** Loads the file when it changed since this process last read or wrote it. */
  private refresh(): Database {
    const stamp = fileStamp(this.location);
    if (this.db && stamp === this.stamp) return this.db;
    this.db?.close();
    const db = stamp === undefined ? new this.SQL.Database() : new this.SQL.Database(fs.readFileSync(this.location));
    for (const s of SCHEMA_SQL) db.run(s);
    this.db = db;
    this.stamp = stamp;
    return db;
  }

  private writeFile(db: Database): void {
    const data = db.export();
    const tmp = `${this.location}.tmp-${process.pid}-${this.tmpCounter++}`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.location);
    this.stamp = fileStamp(this.location);
  }

  private write(apply: (db: Database) => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('results store is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ apply, resolve, reject });
      void this.flush();
    });
  }

  /** Group commit: every write queued while the previous one ran goes into one file rewrite. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        try {
          await this.mutex.run(() =>
            withFileLock(`${this.location}.lock`, () => {
              // Re-read the file under the lock if another process changed it, so its writes are kept.
              const db = this.refresh();
              db.run('BEGIN');
              try {
                for (const w of batch) w.apply(db);
                db.run('COMMIT');
              } catch (err) {
                db.run('ROLLBACK');
                throw err;
              }
              this.writeFile(db);
            }),
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          // The in-memory copy may hold the failed batch: drop it so the next access reloads the file.
          this.db?.close();
          this.db = undefined;
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private read<T>(fn: (db: Database) => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('results store is closed'));
    return this.mutex.run(() => fn(this.refresh()));
  }

  private static all(db: Database, sql: string, params: SqlValue[]): Record<string, unknown>[] {
    const st = db.prepare(sql);
    try {
      st.bind(params);
      const out: Record<string, unknown>[] = [];
      while (st.step()) out.push(st.getAsObject());
      return out;
    } finally {
      st.free();
    }
  }

  upsertRun(row: RunRow): Promise<void> {
    return this.upsertRuns([row]);
  }

  upsertRuns(rows: readonly RunRow[]): Promise<void> {
    let params: SqlValue[][];
    try {
      params = rows.map((r) => runParams(r, this.agentTextChars));
    } catch (err) {
      return Promise.reject(err);
    }
    if (params.length === 0) return Promise.resolve();
    return this.write((db) => {
      for (const p of params) db.run(UPSERT_RUN_SQL, p);
    });
  }

  getRuns(campaignId: string, opts: { agents?: boolean } = {}): Promise<RunRow[]> {
    const sql = opts.agents === false ? SELECT_RUNS_NO_AGENTS_SQL : SELECT_RUNS_SQL;
    return this.read((db) => SqliteResultsStore.all(db, sql, [campaignId]).map(runFromRecord));
  }

  completedRunKeys(campaignId: string): Promise<Set<string>> {
    return this.read(
      (db) => new Set(SqliteResultsStore.all(db, SELECT_RUN_KEYS_SQL, [campaignId]).map((r) => String(r.run_key_id))),
    );
  }

  saveCampaign(meta: CampaignMeta): Promise<void> {
    let params: SqlValue[];
    try {
      params = campaignParams(meta, new Date().toISOString());
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write((db) => db.run(UPSERT_CAMPAIGN_SQL, params));
  }

  getCampaign(id: string): Promise<CampaignMeta | undefined> {
    return this.read((db) => {
      const r = SqliteResultsStore.all(db, SELECT_CAMPAIGN_SQL, [id])[0];
      return r ? parseMeta(r.meta) : undefined;
    });
  }

  listCampaigns(): Promise<CampaignListing[]> {
    return this.read((db) =>
      SqliteResultsStore.all(db, LIST_CAMPAIGNS_SQL, []).map((r) => ({ meta: parseMeta(r.meta), runs: num(r.runs) })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued writes land first.
    while (this.flushing || this.pending.length > 0) await sleep(5);
    await this.mutex.run(() => undefined);
    this.closed = true;
    this.db?.close();
    this.db = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL backend.

/** Key of the advisory lock that serialises schema creation across processes. */
const SCHEMA_LOCK_KEY = 0x61625f73; // 'ab_s'

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

export class PostgresResultsStore implements ResultsStore {
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
        for (const s of SCHEMA_SQL) await c.query(s);
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

  async completedRunKeys(campaignId: string): Promise<Set<string>> {
    return new Set((await this.rows(SELECT_RUN_KEYS_SQL, [campaignId])).map((r) => String(r.run_key_id)));
  }

  async saveCampaign(meta: CampaignMeta): Promise<void> {
    await this.rows(UPSERT_CAMPAIGN_SQL, campaignParams(meta, new Date().toISOString()));
  }

  async getCampaign(id: string): Promise<CampaignMeta | undefined> {
    const r = (await this.rows(SELECT_CAMPAIGN_SQL, [id]))[0];
    return r ? parseMeta(r.meta) : undefined;
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

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function defaultSqlitePath(): string {
  return path.join(stateDir(), 'results.sqlite');
}

/**
 * Opens the results store: `databaseUrl` (postgres) if given; else `sqlitePath` if given; else
 * AGENTBALANCE_DATABASE_URL if set; else the SQLite file `<state dir>/results.sqlite`.
 */
export async function openResultsStore(opts: ResultsStoreOptions = {}): Promise<ResultsStore> {
  const env = process.env[DATABASE_URL_ENV];
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
