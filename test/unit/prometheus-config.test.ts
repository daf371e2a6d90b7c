import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = path.join(ROOT, 'infra/prometheus/prometheus.yml');

/** promtool on PATH, or the one PROMTOOL names. */
function promtool(): string | undefined {
  const candidate = process.env.PROMTOOL ?? 'promtool';
  const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? candidate : undefined;
}

const bin = promtool();
const inCi = process.env.CI === 'true';

test(
  'promtool accepts infra/prometheus/prometheus.yml',
  {
    skip:
      !bin && !inCi
        ? 'promtool not installed (apt-get install prometheus, or AGENTBALANCE_INSTALL_PROMTOOL=1 bash infra/bootstrap.sh)'
        : false,
  },
  () => {
    // In CI the check is required: a missing promtool is a failure, not a skip.
    assert.ok(bin, 'promtool is required when CI=true (infra/bootstrap.sh installs it)');
    const out = execFileSync(bin, ['check', 'config', CONFIG], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /SUCCESS/);
  },
);
