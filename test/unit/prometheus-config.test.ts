import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../infra/paths';

const ROOT = PROJECT_ROOT;
const CONFIG = path.join(ROOT, 'infra/prometheus/prometheus.yml');
const RULES = path.join(ROOT, 'infra/prometheus/alerts.yml');
const RULE_TESTS = path.join(ROOT, 'infra/prometheus/alerts.test.yml');

/** promtool on PATH, or the one PROMTOOL names. */
function promtool(): string | undefined {
  const candidate = process.env.PROMTOOL ?? 'promtool';
  const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? candidate : undefined;
}

const bin = promtool();
const inCi = process.env.CI === 'true';
// In CI the checks are required: a missing promtool is a failure, not a skip.
const skip =
  !bin && !inCi
    ? 'promtool not installed (apt-get install prometheus, or AGENTBALANCE_INSTALL_PROMETHEUS=1 bash infra/bootstrap.sh)'
    : false;

function run(args: string[]): string {
  assert.ok(bin, 'promtool is required when CI=true (infra/bootstrap.sh installs it)');
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${out}`);
  return out;
}

test('promtool accepts infra/prometheus/prometheus.yml, with its rule file', { skip }, () => {
  assert.ok(bin, 'promtool is required when CI=true (infra/bootstrap.sh installs it)');
  const out = execFileSync(bin, ['check', 'config', CONFIG], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /SUCCESS/);
  assert.match(out, /1 rule files found/);
});

test('the alert rules pass their unit tests (promtool test rules infra/prometheus/alerts.test.yml)', { skip }, () => {
  assert.match(run(['check', 'rules', RULES]), /SUCCESS/);
  const out = run(['test', 'rules', RULE_TESTS]);
  assert.match(out, /SUCCESS/);
});

test('every alert the issue asks for is defined and unit-tested', () => {
  const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert?: string; record?: string }[] }[] };
  const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
  for (const a of [
    'AgentbalanceSpendRateHigh',
    'AgentbalanceBudgetEventsRising',
    'AgentbalanceWorkerDown',
    'AgentbalanceNoWorkers',
    'AgentbalanceCampaignStalled',
  ])
    assert.ok(alerts.includes(a), `${a} in alerts.yml`);
  const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as {
    rule_files: string[];
    tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  assert.deepEqual(tests.rule_files, ['alerts.yml']);
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const a of alerts) {
    assert.ok(
      cases.some((c) => c.alertname === a && c.exp_alerts.length > 0),
      `a test where ${a} fires`,
    );
    assert.ok(
      cases.some((c) => c.alertname === a && c.exp_alerts.length === 0),
      `a test where ${a} stays quiet`,
    );
  }
});
