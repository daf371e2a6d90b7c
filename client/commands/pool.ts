import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { BUILTIN_POOLS, DEFAULT_POOL, findBackbone, type PoolFile } from '../../core/pool-file';
import type { Backbone } from '../../core/pool';
import { loadPool, PoolLoadError } from '../../activities/pool-loader';
import { UserError } from '../errors';

export interface PoolCommandIo {
  /** Where results are printed (one call per line block). Default: stdout. */
  out?: (text: string) => void;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

const money = (v: number): string => `$${v.toFixed(3).replace(/0$/, '')}`;

function load(nameOrPath: string): PoolFile {
  try {
    return loadPool(nameOrPath);
  } catch (err) {
    if (err instanceof PoolLoadError) throw new UserError(err.message);
    throw err;
  }
}

function poolHeader(pool: PoolFile): string {
  const kind = pool.simulated ? 'SIMULATED' : 'real providers';
  return `pool ${pool.name} (${kind}; prices ${pool.priceTableVersion}): ${pool.backbones.length} backbones`;
}

function backboneTable(pool: PoolFile): string {
  const rows = pool.backbones.map((b) => [
    b.id,
    b.provider,
    money(b.priceInPerMTok),
    money(b.priceOutPerMTok),
    b.latency.ttftS.toFixed(2),
    String(b.latency.decodeTps),
    b.reasoning ? 'yes' : '',
    b.provider === 'simulated' ? 'simulated' : 'real',
  ]);
  return table(
    ['id', 'provider', '$in/1M', '$out/1M', 'ttft s', 'decode tok/s', 'reasoning', 'label'],
    rows,
    new Set([2, 3, 4, 5]),
  );
}

function listJson(pool: PoolFile): unknown {
  return pool.backbones.map((b) => ({
    id: b.id,
    provider: b.provider,
    model: b.model,
    priceInPerMTok: b.priceInPerMTok,
    priceOutPerMTok: b.priceOutPerMTok,
    ttftS: b.latency.ttftS,
    decodeTps: b.latency.decodeTps,
    reasoning: b.reasoning,
    simulated: b.provider === 'simulated',
  }));
}

function showPool(pool: PoolFile): string {
  const lines = [poolHeader(pool)];
  if (pool.description) lines.push(pool.description);
  lines.push('', backboneTable(pool));
  if (pool.sources.length > 0) lines.push('', 'sources:', ...pool.sources.map((s) => `  [${s.id}] ${s.title} <${s.url}>`));
  if (pool.notes.length > 0) lines.push('', 'notes:', ...pool.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

function showBackbone(pool: PoolFile, b: Backbone): string {
  const sourceTitle = new Map(pool.sources.map((s) => [s.id, s.title]));
  const lines = [
    `${b.id} (${b.provider === 'simulated' ? 'SIMULATED' : 'real'}; pool ${pool.name})`,
    `  provider        ${b.provider}`,
    `  model           ${b.model}`,
    ...(b.baseUrl ? [`  base URL        ${b.baseUrl}`] : []),
    ...(b.provider !== 'simulated'
      ? [`  API key from    $${b.apiKeyEnv ?? (b.provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY')}`]
      : []),
    `  price           ${money(b.priceInPerMTok)} in / ${money(b.priceOutPerMTok)} out per 1M tokens (${pool.priceTableVersion})`,
    `  latency         ttft ${b.latency.ttftS} s, prefill ${b.latency.prefillTps} tok/s, decode ${b.latency.decodeTps} tok/s`,
    `  context window  ${b.contextWindow} tokens`,
    `  reasoning       ${b.reasoning ? 'yes' : 'no'}`,
  ];
  if (b.profile) {
    const domains = ['math', 'knowledge', 'code'] as const;
    lines.push(
      `  ability θ       ${domains.map((d) => `${d} ${b.profile?.ability[d]?.toFixed(2) ?? '-'}`).join(', ')}`,
      `  mean output     ${domains.map((d) => `${d} ${b.profile?.meanOutputTokens[d] ?? '-'}`).join(', ')} tokens`,
    );
  }
  const cited = Object.entries(b.citedAccuracy ?? {});
  if (cited.length > 0) {
    lines.push('  cited accuracy:');
    const rows = cited.map(([bench, s]) => [
      `    ${bench}`,
      s ? `${(s.value * 100).toFixed(1)}%` : '',
      s?.derived ? 'derived' : 'public',
      [s?.source ? (sourceTitle.get(s.source) ?? s.source) : '', s?.note ?? ''].filter(Boolean).join(' — '),
    ]);
    const w0 = Math.max(...rows.map((r) => (r[0] ?? '').length));
    lines.push(
      ...rows.map((r) =>
        `${(r[0] ?? '').padEnd(w0)}  ${(r[1] ?? '').padStart(6)}  ${(r[2] ?? '').padEnd(7)}  ${r[3] ?? ''}`.trimEnd(),
      ),
    );
  }
  if (b.sources && b.sources.length > 0)
    lines.push(`  sources         ${b.sources.map((s) => sourceTitle.get(s) ?? s).join('; ')}`);
  return lines.join('\n');
}

/** `pool list` and `pool show`: inspect built-in pools and pool files. */
export function registerPoolCommands(program: Command, io: PoolCommandIo = {}): void {
  const out = io.out ?? ((text: string) => void process.stdout.write(`${text}\n`));
  const pool = program.command('pool').description('inspect backbone pools (built-in or YAML/JSON pool files)');

  pool
    .command('list')
    .description('list the backbones of a pool: provider, prices, latency, simulated or real')
    .option('--pool <name|file>', `built-in pool (${Object.keys(BUILTIN_POOLS).join(', ')}) or pool file`, DEFAULT_POOL)
    .option('--json', 'print JSON')
    .action((o: { pool: string; json?: boolean }) => {
      const p = load(o.pool);
      out(o.json ? JSON.stringify(listJson(p), null, 2) : `${poolHeader(p)}\n\n${backboneTable(p)}`);
    });

  pool
    .command('show')
    .description('show one backbone of a pool, or a whole pool given its name or file')
    .argument('<id|file>', 'backbone id, built-in pool name or pool file')
    .option('--pool <name|file>', 'pool to look the backbone up in', DEFAULT_POOL)
    .option('--json', 'print JSON')
    .action((target: string, o: { pool: string; json?: boolean }) => {
      if (BUILTIN_POOLS[target] || existsSync(target)) {
        const p = load(target);
        out(o.json ? JSON.stringify(p, null, 2) : showPool(p));
        return;
      }
      const p = load(o.pool);
      const b = findBackbone(p, target);
      if (!b) {
        throw new UserError(
          `${target}: not a backbone of pool ${p.name} (${p.backbones.map((x) => x.id).join(', ')}), a built-in pool or a pool file`,
        );
      }
      out(o.json ? JSON.stringify(b, null, 2) : showBackbone(p, b));
    });
}
