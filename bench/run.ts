// `npm run bench`: every benchmark in turn, each writing its results under bench/results/.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches = ['engine.ts', 'designer.ts', 'hops.ts', 'scale.ts', 'gateway.ts', 'local-engine.ts'];
let failed = 0;
for (const b of benches) {
  console.log(`== bench/${b}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, b)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
