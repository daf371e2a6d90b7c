/**
 * Chooses the prior sd of profiled abilities (activities/profiling.ts THETA_PRIOR_SD) on profiling
 * observations only (the profile split; never train or test queries): for each candidate sd, 5-fold
 * cross-validation over (backbone, query) cells of every stored profiling job, fitting the 1PL with
 * the pool file's θ as the prior on four folds and scoring the held-out fold's log-loss. One sd for
 * every benchmark: the one with the lowest log-loss summed over the benchmarks given.
 *
 *   node --import tsx bench/profile-prior.ts [STATE_DIR ...]   # state folders of runs that profiled
 *
 * (default: this process's state folder, AGENTBALANCE_STATE_DIR). The pool is sim-14 unless
 * AGENTBALANCE_PRIOR_POOL names another.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { BENCHMARK_DOMAIN, BenchmarkIdSchema } from '../core/domain';
import { fitIrt, irtProbability, type IrtObservation } from '../core/profiling/irt';
import { abilityFor, profiledFromBackbone } from '../core/profiling/pool-profile';
import { DIFFICULTY_PRIOR } from '../core/sim/calibration';
import { unitHash } from '../core/splits';
import { loadPool } from '../activities/pool-loader';
import { stateDir } from '../infra/paths';

const CANDIDATES = [0, 0.0625, 0.125, 0.25, 0.5, 1, 2, Infinity];
const FOLDS = 5;

const pool = loadPool(process.env.AGENTBALANCE_PRIOR_POOL ?? 'sim-14');
const dirs = process.argv.length > 2 ? process.argv.slice(2) : [stateDir()];
const rows = dirs.flatMap((dir) => {
  const db = new Database(path.join(dir, 'results.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT profile_id, obs_key, correct FROM ab_profile_obs ORDER BY profile_id, obs_key').all() as { profile_id: string; obs_key: string; correct: number }[];
  } finally {
    db.close();
  }
});

const jobs = new Map<string, { benchmark: string; obs: IrtObservation[] }>();
for (const r of rows) {
  const bar = r.obs_key.indexOf('|');
  const backbone = r.obs_key.slice(0, bar);
  const item = r.obs_key.slice(bar + 1);
  const benchmark = BenchmarkIdSchema.parse(item.slice(0, item.indexOf('/')));
  const job = jobs.get(r.profile_id) ?? { benchmark, obs: [] };
  job.obs.push({ backbone, item, domain: BENCHMARK_DOMAIN[benchmark], correct: r.correct === 1 });
  jobs.set(r.profile_id, job);
}
if (jobs.size === 0) {
  process.stderr.write(`profile-prior: no profiling observations in ${dirs.join(', ')}\n`);
  process.exit(2);
}

const total = new Map<number, number>();
const lines: string[] = [];
for (const [id, { benchmark, obs }] of jobs) {
  const b = BenchmarkIdSchema.parse(benchmark);
  const mean: Record<string, Partial<Record<string, number>>> = {};
  for (const bb of pool.backbones) mean[bb.id] = { [BENCHMARK_DOMAIN[b]]: abilityFor(profiledFromBackbone(bb), BENCHMARK_DOMAIN[b]) };
  const fold = (o: IrtObservation): number => Math.floor(unitHash('prior-cv', `${o.backbone}|${o.item}`) * FOLDS);
  const cells: string[] = [];
  for (const sd of CANDIDATES) {
    let loss = 0;
    for (let f = 0; f < FOLDS; f++) {
      const train = obs.filter((o) => fold(o) !== f);
      const test = obs.filter((o) => fold(o) === f);
      const fit = fitIrt(train, {
        kind: '1pl',
        l2: 0.1,
        bPriorMean: DIFFICULTY_PRIOR[b].mu,
        // sd 0 pins θ at the pool file's (a tiny sd keeps the solver's steps finite).
        ...(Number.isFinite(sd) ? { thetaPrior: { mean, sd: Math.max(sd, 1e-3) } } : {}),
      });
      const bOf = new Map(fit.items.map((it) => [it.id, it.b]));
      for (const o of test) {
        const p = Math.min(1 - 1e-9, Math.max(1e-9, irtProbability(fit.theta[o.backbone]?.[o.domain] ?? 0, bOf.get(o.item) ?? DIFFICULTY_PRIOR[b].mu)));
        loss -= o.correct ? Math.log(p) : Math.log(1 - p);
      }
    }
    total.set(sd, (total.get(sd) ?? 0) + loss / obs.length);
    cells.push((loss / obs.length).toFixed(4));
  }
  lines.push(`| ${benchmark} (\`${id}\`, ${obs.length} calls) | ${cells.join(' | ')} |`);
}
const best = [...total].sort((a, b) => a[1] - b[1])[0]!;
process.stdout.write(
  [
    `Held-out log-loss per call (${FOLDS}-fold over backbone × query cells of the profile split; SIMULATED pool ${pool.name})`,
    '',
    `| profiling job | ${CANDIDATES.map((c) => `sd ${c}`).join(' | ')} |`,
    `| --- | ${CANDIDATES.map(() => '---:').join(' | ')} |`,
    ...lines,
    `| mean over jobs | ${CANDIDATES.map((c) => (total.get(c)! / jobs.size).toFixed(4)).join(' | ')} |`,
    '',
    `lowest: sd ${best[0]}`,
    '',
  ].join('\n'),
);
