// A separate process that races reservations on one key in a shared SQLite keys file (keys-store test).
import { SqliteKeyStore } from '../../activities/keys-store';

async function main(): Promise<void> {
  const [file, keyId, n, amount] = process.argv.slice(2);
  const store = new SqliteKeyStore(file!);
  const key = (await store.getKey(keyId!))!;
  let ok = 0;
  for (let i = 0; i < Number(n); i++) {
    const r = await store.reserve({ key, requestId: `req-${process.pid}-${i}`, workflowId: `wf-${process.pid}-${i}`, model: 'm', amountUsd: Number(amount) });
    if (r.kind === 'reserved') ok++;
  }
  await store.close();
  process.stdout.write(String(ok));
}
void main();
