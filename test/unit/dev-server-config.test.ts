import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DEV_SERVER_DYNAMIC_CONFIG, devServerDynamicConfigArgs } from '../../infra/dev-server';

test('the dev server gets its dispatch settings as --dynamic-config-value flags (#17)', () => {
  const args = devServerDynamicConfigArgs();
  assert.ok(DEV_SERVER_DYNAMIC_CONFIG.includes('history.transferProcessorMaxPollRPS=1000'));
  assert.equal(args.length, 2 * DEV_SERVER_DYNAMIC_CONFIG.length);
  for (const [i, kv] of DEV_SERVER_DYNAMIC_CONFIG.entries()) assert.deepEqual(args.slice(2 * i, 2 * i + 2), ['--dynamic-config-value', kv]);
});

test('the compose stack\'s Temporal server uses the same dispatch settings as the dev server', () => {
  const file = path.join(__dirname, '../../infra/temporal/dynamicconfig/development-sql.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as Record<string, { value: unknown }[]>;
  for (const kv of DEV_SERVER_DYNAMIC_CONFIG) {
    const [key, value] = kv.split('=') as [string, string];
    assert.equal(String(cfg[key]?.[0]?.value), value, `${key} in ${path.basename(file)}`);
  }
});
