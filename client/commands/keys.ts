import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_MAX_COST_USD, KeyLimitsSchema, openKeyStore, type ApiKey, type KeyStore } from '../../activities/keys-store';
import { UserError } from '../errors';

const usd = (flag: string) => z.coerce.number({ error: `${flag} must be a number` }).refine((v) => Number.isFinite(v) && v > 0, `${flag} must be a positive number`);

const CreateSchema = z.object({
  name: z.string().min(1, '--name must not be empty'),
  dailyLimit: usd('--daily-limit').optional(),
  monthlyLimit: usd('--monthly-limit').optional(),
  rpm: z.coerce.number({ error: '--rpm must be a number' }).int('--rpm must be an integer').positive('--rpm must be positive').optional(),
  defaultMaxCost: usd('--default-max-cost').default(DEFAULT_MAX_COST_USD),
  defaultMaxLatency: usd('--default-max-latency').optional(),
  json: z.boolean().default(false),
});

async function withKeys<T>(fn: (s: KeyStore) => Promise<T>): Promise<T> {
  const store = await openKeyStore();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function describe(k: ApiKey): string {
  const l = k.limits;
  const parts = [
    l.dailyUsd !== undefined ? `$${l.dailyUsd}/day` : 'no daily limit',
    l.monthlyUsd !== undefined ? `$${l.monthlyUsd}/month` : 'no monthly limit',
    l.rpm !== undefined ? `${l.rpm} req/min` : 'no rate limit',
    `default max cost $${l.defaultMaxCostUsd}`,
    ...(l.defaultMaxLatencyS !== undefined ? [`default max latency ${l.defaultMaxLatencyS}s`] : []),
  ];
  return `${k.id}  ${k.name}  ${k.revokedAt ? `REVOKED ${k.revokedAt}` : 'active'}  ${parts.join(', ')}`;
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys of the gateway (`agentbalance serve`): create, list, revoke, spend');
  keys
    .command('create')
    .description('create a key; its secret is printed once and stored only hashed')
    .requiredOption('--name <name>', 'a name for the key (team, service)')
    .option('--daily-limit <usd>', 'spend limit per UTC day')
    .option('--monthly-limit <usd>', 'spend limit per UTC calendar month')
    .option('--rpm <n>', 'requests per minute')
    .option('--default-max-cost <usd>', 'cost budget (and reservation) of a request that gives none', String(DEFAULT_MAX_COST_USD))
    .option('--default-max-latency <s>', 'latency budget of a request that gives none')
    .option('--json', 'print JSON')
    .action(async (raw: Record<string, unknown>) => {
      const p = CreateSchema.safeParse(raw);
      if (!p.success) throw new UserError(p.error.issues[0]!.message);
      const o = p.data;
      const limits = KeyLimitsSchema.parse({
        defaultMaxCostUsd: o.defaultMaxCost,
        ...(o.dailyLimit !== undefined ? { dailyUsd: o.dailyLimit } : {}),
        ...(o.monthlyLimit !== undefined ? { monthlyUsd: o.monthlyLimit } : {}),
        ...(o.rpm !== undefined ? { rpm: o.rpm } : {}),
        ...(o.defaultMaxLatency !== undefined ? { defaultMaxLatencyS: o.defaultMaxLatency } : {}),
      });
      const { key, secret } = await withKeys((s) => s.createKey(o.name, limits));
      if (o.json) {
        console.log(JSON.stringify({ ...key, secret }));
        return;
      }
      console.log(describe(key));
      console.log(`secret (shown once; send as "Authorization: Bearer <secret>"):\n${secret}`);
    });
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const all = await withKeys((s) => s.listKeys());
      if (o.json) console.log(JSON.stringify(all));
      else if (all.length === 0) console.log('no keys; create one with `agentbalance keys create --name NAME`');
      else for (const k of all) console.log(describe(k));
    });
  keys
    .command('revoke <id>')
    .description('revoke a key: its requests get 401 from then on')
    .action(async (id: string) => {
      const ok = await withKeys(async (s) => {
        if (!(await s.getKey(id))) throw new UserError(`no key ${id}; see \`agentbalance keys list\``);
        return s.revokeKey(id);
      });
      console.log(ok ? `revoked ${id}` : `${id} was already revoked`);
    });
  keys
    .command('spend <id>')
    .description("a key's spend in the current UTC day and month (settled costs plus open reservations)")
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { key, spend } = await withKeys(async (s) => {
        const key = await s.getKey(id);
        if (!key) throw new UserError(`no key ${id}; see \`agentbalance keys list\``);
        return { key, spend: await s.spend(id) };
      });
      if (o.json) {
        console.log(JSON.stringify({ ...spend, limits: key.limits }));
        return;
      }
      const lim = (v: number | undefined) => (v === undefined ? '' : ` of $${v}`);
      console.log(`${key.id} ${key.name}: today $${spend.dailyUsd.toFixed(6)}${lim(key.limits.dailyUsd)}, this month $${spend.monthlyUsd.toFixed(6)}${lim(key.limits.monthlyUsd)}`);
      console.log(`  open reservations $${spend.reservedUsd.toFixed(6)}; ${spend.requests} requests this month`);
    });
}
