import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { createGenAiInstruments, genAiSemconvFrom, type GenAiSemconv } from '../../activities/metrics';
import { PROJECT_ROOT } from '../../infra/paths';

const ROOT = PROJECT_ROOT;

test('OTEL_SEMCONV_STABILITY_OPT_IN picks the GenAI metric names; other values in the list are ignored', () => {
  assert.equal(genAiSemconvFrom(undefined), 'v1.41');
  assert.equal(genAiSemconvFrom(''), 'v1.41');
  assert.equal(genAiSemconvFrom('http,database'), 'v1.41');
  assert.equal(genAiSemconvFrom('gen_ai_latest_experimentalx'), 'v1.41');
  assert.equal(genAiSemconvFrom('gen_ai_latest_experimental'), 'latest');
  assert.equal(genAiSemconvFrom('http, gen_ai_latest_experimental '), 'latest');
  assert.equal(genAiSemconvFrom('gen_ai_latest_experimental/dup'), 'both');
  assert.equal(genAiSemconvFrom('gen_ai_latest_experimental,gen_ai_latest_experimental/dup'), 'both');
});

/** Samples of the exposition text: `name{labels} value` → value, by name and label string. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const names = (text: string): string[] => [...new Set([...samples(text).keys()].map((k) => k.replace(/\{.*$/, '')))].sort();

async function recordIn(mode: GenAiSemconv): Promise<string> {
  const reg = new Registry();
  const g = createGenAiInstruments(mode, reg);
  g.record({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 20, durationS: 1.5 });
  g.record({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 300, outputTokens: 40, durationS: 0 });
  const text = await reg.metrics();
  // The instruments say which series they expose, and they expose exactly those.
  assert.deepEqual(names(text), [...g.seriesNames].sort(), mode);
  return text;
}

test('v1.41 (default): gen_ai_client_token_usage by token type and gen_ai_client_operation_duration_seconds', async () => {
  const s = samples(await recordIn('v1.41'));
  const base = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o-mini"';
  assert.equal(s.get(`gen_ai_client_token_usage_sum{${base},gen_ai_token_type="input"}`), 400);
  assert.equal(s.get(`gen_ai_client_token_usage_sum{${base},gen_ai_token_type="output"}`), 60);
  assert.equal(s.get(`gen_ai_client_token_usage_count{${base},gen_ai_token_type="input"}`), 2);
  // A call without a known duration records none.
  assert.equal(s.get(`gen_ai_client_operation_duration_seconds_count{${base}}`), 1);
  assert.equal(s.get(`gen_ai_client_operation_duration_seconds_sum{${base}}`), 1.5);
  assert.ok(![...s.keys()].some((k) => k.startsWith('gen_ai_client_inference_')));
});

test('latest: inference usage counters by modality, per-call token histograms, gen_ai_client_inference_duration_seconds', async () => {
  const s = samples(await recordIn('latest'));
  const base = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o-mini"';
  assert.equal(s.get(`gen_ai_client_inference_usage_input_tokens_total{${base},gen_ai_token_modality="text"}`), 400);
  assert.equal(s.get(`gen_ai_client_inference_usage_output_tokens_total{${base},gen_ai_token_modality="text"}`), 60);
  assert.equal(s.get(`gen_ai_client_inference_operation_input_tokens_sum{${base}}`), 400);
  assert.equal(s.get(`gen_ai_client_inference_operation_output_tokens_count{${base}}`), 2);
  assert.equal(s.get(`gen_ai_client_inference_operation_input_tokens_bucket{le="256",${base}}`), 1);
  assert.equal(s.get(`gen_ai_client_inference_duration_seconds_count{${base}}`), 1);
  assert.ok(![...s.keys()].some((k) => k.startsWith('gen_ai_client_token_usage') || k.startsWith('gen_ai_client_operation_')));
});

test('both: the union, with the same numbers under either name', async () => {
  const both = samples(await recordIn('both'));
  for (const [k, v] of [...samples(await recordIn('v1.41')), ...samples(await recordIn('latest'))])
    assert.equal(both.get(k), v, k);
});

test("a worker's mode comes from the environment", () => {
  const script =
    "const m = require('./activities/metrics'); m.genAi(); m.registry.getMetricsAsJSON().then((x) => console.log(x.map((y) => y.name).filter((n) => n.startsWith('gen_ai_')).sort().join(',')))";
  const run = (optIn?: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, OTEL_SEMCONV_STABILITY_OPT_IN: optIn ?? '' },
    }).trim();
  assert.equal(run(), 'gen_ai_client_operation_duration_seconds,gen_ai_client_token_usage');
  assert.equal(
    run('gen_ai_latest_experimental'),
    'gen_ai_client_inference_duration_seconds,gen_ai_client_inference_operation_input_tokens,gen_ai_client_inference_operation_output_tokens,gen_ai_client_inference_usage_input_tokens_total,gen_ai_client_inference_usage_output_tokens_total',
  );
  assert.equal(run('gen_ai_latest_experimental/dup').split(',').length, 7);
});
