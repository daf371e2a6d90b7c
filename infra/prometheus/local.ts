/**
 * A throwaway Prometheus (the `prometheus` binary of Debian's package, or PROMETHEUS=path) for tests
 * and the dashboard renderer: temp data folder, free port, a scrape config derived from
 * infra/prometheus/prometheus.yml (same job names and rule file, static targets instead of DNS
 * discovery), and a small client of its HTTP API with zod-checked responses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { freePort } from '../net';
import { productEnv } from '../env';

export { freePort };

export const PROMETHEUS_DIR = __dirname;
const PROMETHEUS_CONFIG = path.join(__dirname, 'prometheus.yml');

/** The prometheus binary (PROMETHEUS, else on PATH), or undefined when none runs. */
export function findPrometheus(): string | undefined {
  const candidate = productEnv().PROMETHEUS ?? 'prometheus';
  const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? candidate : undefined;
}

const ScrapeJobSchema = z
  .object({ job_name: z.string(), metrics_path: z.string().optional(), dns_sd_configs: z.unknown().optional() })
  .passthrough();
const ConfigSchema = z
  .object({
    global: z.record(z.string(), z.unknown()).optional(),
    rule_files: z.array(z.string()).default([]),
    scrape_configs: z.array(ScrapeJobSchema),
  })
  .passthrough();

/**
 * The product's Prometheus config with `targets` (job name → host:port) in place of service
 * discovery; jobs without a target are dropped, rule files get absolute paths, and scrape and rule
 * evaluation run every `intervalS` seconds.
 */
function localConfig(targets: Record<string, string>, intervalS: number): string {
  const cfg = ConfigSchema.parse(parse(fs.readFileSync(PROMETHEUS_CONFIG, 'utf8')));
  const jobs = cfg.scrape_configs
    .filter((j) => targets[j.job_name])
    .map(({ dns_sd_configs: _dns, static_configs: _static, ...j }) => ({
      ...j,
      static_configs: [{ targets: [targets[j.job_name]!] }],
    }));
  for (const name of Object.keys(targets))
    if (!jobs.some((j) => j.job_name === name)) throw new Error(`no job ${name} in ${PROMETHEUS_CONFIG}`);
  return stringify({
    ...cfg,
    global: {
      ...cfg.global,
      scrape_interval: `${intervalS}s`,
      scrape_timeout: `${intervalS}s`,
      evaluation_interval: `${intervalS}s`,
    },
    rule_files: cfg.rule_files.map((f) => path.resolve(PROMETHEUS_DIR, f)),
    scrape_configs: jobs,
  });
}

const ApiEnvelope = z.object({
  status: z.enum(['success', 'error']),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
});

/** A sample value as Prometheus' JSON writes it: [unix seconds, "value"]. */
const PointSchema = z.tuple([z.number(), z.string()]).transform(([t, v]) => ({ t, v: Number(v) }));
type Point = z.infer<typeof PointSchema>;
const MatrixSchema = z.object({
  resultType: z.literal('matrix'),
  result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(PointSchema) })),
});
const VectorSchema = z.object({
  resultType: z.literal('vector'),
  result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: PointSchema })),
});
const ScalarSchema = z.object({ resultType: z.literal('scalar'), result: PointSchema });
const TargetsSchema = z.object({
  activeTargets: z.array(z.object({ labels: z.record(z.string(), z.string()), health: z.string(), lastError: z.string() })),
});
const RulesSchema = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.object({
          name: z.string(),
          type: z.enum(['recording', 'alerting']),
          query: z.string(),
          health: z.string(),
          lastError: z.string().optional(),
          state: z.string().optional(),
        }),
      ),
    }),
  ),
});

export interface Series {
  metric: Record<string, string>;
  points: Point[];
}

export interface LocalPrometheus {
  url: string;
  /** Instant query at `time` (unix seconds; now by default): one point per series. */
  query(expr: string, time?: number): Promise<Series[]>;
  /** Range query over [start, end] (unix seconds) every `stepS` seconds. */
  queryRange(expr: string, start: number, end: number, stepS: number): Promise<Series[]>;
  targets(): Promise<z.infer<typeof TargetsSchema>['activeTargets']>;
  rules(): Promise<z.infer<typeof RulesSchema>['groups']>;
  close(): Promise<void>;
}

async function api<T extends z.ZodTypeAny>(url: string, schema: T, params: Record<string, string> = {}): Promise<z.infer<T>> {
  // Queries go as a form (they can be long); the other endpoints are GET only.
  const res =
    Object.keys(params).length === 0
      ? await fetch(url)
      : await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(params).toString(),
        });
  const body = ApiEnvelope.parse(await res.json());
  if (body.status === 'error') throw new Error(`Prometheus ${body.errorType ?? 'error'}: ${body.error ?? res.status}`);
  return schema.parse(body.data) as z.infer<T>;
}

function toSeries(data: z.infer<typeof MatrixSchema> | z.infer<typeof VectorSchema> | z.infer<typeof ScalarSchema>): Series[] {
  if (data.resultType === 'matrix') return data.result.map((r) => ({ metric: r.metric, points: r.values }));
  if (data.resultType === 'vector') return data.result.map((r) => ({ metric: r.metric, points: [r.value] }));
  return [{ metric: {}, points: [data.result] }];
}

/**
 * Starts Prometheus scraping `targets` (job name of infra/prometheus/prometheus.yml → host:port) every
 * `intervalS` seconds, with the product's rule files; resolves once it is ready.
 */
export async function startPrometheus(opts: {
  bin: string;
  targets: Record<string, string>;
  intervalS?: number;
  /** Where its stderr goes (its own log); ignored by default. */
  log?: (line: string) => void;
}): Promise<LocalPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-prometheus-'));
  const port = await freePort();
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, localConfig({ ...opts.targets, prometheus: `127.0.0.1:${port}` }, opts.intervalS ?? 1));
  const child: ChildProcess = spawn(
    opts.bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
    opts.log?.(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`prometheus not ready after 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const DataSchema = z.union([MatrixSchema, VectorSchema, ScalarSchema]);
  return {
    url,
    query: async (expr, time) =>
      toSeries(
        await api(`${url}/api/v1/query`, DataSchema, { query: expr, ...(time !== undefined ? { time: String(time) } : {}) }),
      ),
    queryRange: async (expr, start, end, stepS) =>
      toSeries(
        await api(`${url}/api/v1/query_range`, DataSchema, {
          query: expr,
          start: String(start),
          end: String(end),
          step: String(stepS),
        }),
      ),
    targets: async () => (await api(`${url}/api/v1/targets`, TargetsSchema, {})).activeTargets,
    rules: async () => (await api(`${url}/api/v1/rules`, RulesSchema, {})).groups,
    close,
  };
}
