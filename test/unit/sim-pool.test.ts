import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { BUILTIN_POOLS, findBackbone, parsePoolFile, PoolFileError } from '../../core/pool-file';
import { domainAbility, DOMAIN_REFERENCE } from '../../core/sim/calibration';
import type { Task } from '../../core/task';
import { countChatTokens } from '../../core/tokens';
import { getProvider } from '../../activities/providers';
import { planSimulatedCall, SimulatedProvider } from '../../activities/providers/sim/provider';
import { ProviderError, type ChatRequest } from '../../activities/providers/types';
import { loadPool, PoolLoadError } from '../../activities/pool-loader';
import { registerPoolCommands } from '../../client/commands/pool';
import { UserError } from '../../client/errors';
import { isRight, synthTask } from '../support/sim-tasks';

const pool = BUILTIN_POOLS['sim-14']!;
const bb = (id: string) => {
  const b = findBackbone(pool, id);
  assert.ok(b, id);
  return b;
};
const provider = new SimulatedProvider();
type Sim = NonNullable<ChatRequest['simulation']>;

function req(task: Task | undefined, sim: Partial<Sim> = {}, extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    system: 'You are a careful solver. End with the final answer.',
    messages: [{ role: 'user', content: task?.question ?? 'Write a haiku about budgets.' }],
    maxTokens: 100_000,
    temperature: 0,
    simulation: { ...(task ? { task } : {}), role: 'solver', seed: 'seed-1', peerTexts: [], ...sim },
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

describe('simulated provider', () => {
  test('the registry serves it for kind "simulated"', () => {
    assert.ok(getProvider('simulated') instanceof SimulatedProvider);
  });

  test('every response is labelled simulated; free-form queries get a clearly labelled generic answer', async () => {
    const withTask = await provider.chat(bb('gpt-4o'), req(synthTask('gsm8k', 1)));
    assert.equal(withTask.simulated, true);
    const free = await provider.chat(bb('gpt-4o'), req(undefined));
    assert.equal(free.simulated, true);
    assert.match(free.text, /^\[simulated answer from gpt-4o: no task or answer key was given/);
    const bare = await provider.chat(bb('gpt-4o'), { ...req(undefined), simulation: undefined });
    assert.equal(bare.simulated, true);
    assert.match(bare.text, /simulated/);
  });

  test('deterministic in (seed, backbone, task, role, peer texts)', async () => {
    const task = synthTask('humaneval', 3);
    const a = await provider.chat(bb('llama-3.1-8b'), req(task));
    const b = await provider.chat(bb('llama-3.1-8b'), req(task));
    assert.deepEqual(a, b);
    const texts = new Set<string>();
    for (let s = 0; s < 20; s++) texts.add((await provider.chat(bb('llama-3.1-8b'), req(task, { seed: `s${s}` }))).text);
    assert.ok(texts.size > 5, 'different seeds sample different outputs');
    const withPeers = await provider.chat(bb('llama-3.1-8b'), req(task, { peerTexts: ['Answer: 3'] }));
    assert.notDeepEqual(withPeers.text, a.text);
  });

  test('input tokens are counted on the real prompt', async () => {
    const r = req(synthTask('mmlu', 2));
    const res = await provider.chat(bb('gpt-4.1'), r);
    assert.equal(res.usage.inputTokens, countChatTokens(r.system, r.messages));
  });

  test('reasoning backbones are more verbose and slower', async () => {
    let plain = 0;
    let reasoning = 0;
    let plainS = 0;
    let reasoningS = 0;
    for (let i = 0; i < 100; i++) {
      const t = synthTask('gsm8k', i);
      const p = await provider.chat(bb('gpt-4o-mini'), req(t));
      const r = await provider.chat(bb('o3-mini'), req(t));
      plain += p.usage.outputTokens;
      reasoning += r.usage.outputTokens;
      plainS += p.timing.totalS;
      reasoningS += r.timing.totalS;
    }
    assert.ok(reasoning > 3 * plain);
    assert.ok(reasoningS > 2 * plainS);
  });

  test('roles that decide write less than roles that solve', async () => {
    let solver = 0;
    let decision = 0;
    for (let i = 0; i < 200; i++) {
      const t = synthTask('mmlu', i);
      solver += (await provider.chat(bb('gpt-4o'), req(t, { role: 'solver' }))).usage.outputTokens;
      decision += (await provider.chat(bb('gpt-4o'), req(t, { role: 'decision' }))).usage.outputTokens;
    }
    assert.ok(decision < 0.75 * solver);
  });

  test('max_tokens caps output; a reasoning backbone may spend it all on hidden reasoning', async () => {
    const t = synthTask('gsm8k', 4);
    const short = await provider.chat(bb('gpt-4o'), req(t, {}, { maxTokens: 20 }));
    assert.ok(short.usage.outputTokens <= 20);
    assert.doesNotMatch(short.text, /Answer:/, 'the final line is lost when the cap cuts the text');
    const o3 = await provider.chat(bb('o3-mini'), req(t, {}, { maxTokens: 200 }));
    assert.equal(o3.usage.outputTokens, 200);
    assert.equal(o3.text, '');
  });

  test('wrong answers are plausible: another number, another option, another box, broken code', () => {
    const kinds = ['gsm8k', 'mmlu', 'math500', 'humaneval'] as const;
    for (const bench of kinds) {
      let wrong = 0;
      for (let i = 0; i < 300 && wrong < 20; i++) {
        const task = synthTask(bench, i);
        const plan = planSimulatedCall(bb('llama-3.1-8b'), req(task, { seed: `w${i}` }));
        assert.equal(plan.kind, 'ok');
        if (plan.kind !== 'ok' || plan.correct !== false) continue;
        wrong++;
        const text = plan.response.text;
        assert.equal(isRight(text, task), false);
        if (bench === 'gsm8k') assert.match(text, /\nAnswer: -?\d+(\.\d+)?$/);
        if (bench === 'mmlu') assert.match(text, /\nAnswer: \([A-D]\)$/);
        if (bench === 'math500') assert.match(text, /\\boxed\{.+\}\$\.$/);
        if (bench === 'humaneval') {
          const code = /```python\n([\s\S]*?)\n```/.exec(text)?.[1] ?? '';
          assert.match(code, new RegExp(`def count_above_${i}\\(`), 'still a solution of the task');
        }
      }
      assert.ok(wrong >= 10, `${bench}: enough wrong answers sampled`);
    }
  });

  test('peer effect: right predecessors raise accuracy, wrong ones lower it, weaker backbones are swayed more', async () => {
    // The model's expected effects for llama-3.1-8b (84.5 % on gsm8k, sway ≈ 0.8): +0.067 with
    // right peers, −0.097 with wrong ones; at N = 1000 each measured difference has sd ≈ 0.013.
    const N = 1000;
    const rate = async (id: string, peers: (t: Task) => string[]) => {
      let ok = 0;
      for (let i = 0; i < N; i++) {
        const t = synthTask('gsm8k', i);
        const res = await provider.chat(bb(id), req(t, { peerTexts: peers(t), seed: 'peer' }));
        if (isRight(res.text, t)) ok++;
      }
      return ok / N;
    };
    const value = (t: Task) => (t.answer.kind === 'numeric' ? Number(t.answer.value) : 0);
    const right = (t: Task) => [`I computed it.\n\nAnswer: ${value(t)}`, `Answer: ${value(t)}`];
    const wrong = (t: Task) => [`I computed it.\n\nAnswer: ${value(t) + 7}`, `Answer: ${value(t) + 7}`];
    const weak = {
      none: await rate('llama-3.1-8b', () => []),
      right: await rate('llama-3.1-8b', right),
      wrong: await rate('llama-3.1-8b', wrong),
    };
    const strong = { none: await rate('o4-mini', () => []), wrong: await rate('o4-mini', wrong) };
    assert.ok(weak.right > weak.none + 0.04, `right peers help: ${JSON.stringify(weak)}`);
    assert.ok(weak.wrong < weak.none - 0.05, `wrong peers hurt: ${JSON.stringify(weak)}`);
    assert.ok(weak.none - weak.wrong > strong.none - strong.wrong, `weak swayed more: ${JSON.stringify({ weak, strong })}`);
  });

  test('swayed agents often repeat the wrong peer answer (herding)', async () => {
    let wrongs = 0;
    let copies = 0;
    for (let i = 0; i < 300; i++) {
      const t = synthTask('gsm8k', i);
      const peer = Number(t.answer.kind === 'numeric' ? t.answer.value : 0) + 7;
      const res = await provider.chat(bb('llama-3.1-8b'), req(t, { peerTexts: [`Answer: ${peer}`], seed: 'herd' }));
      if (isRight(res.text, t)) continue;
      wrongs++;
      if (res.text.endsWith(`Answer: ${peer}`)) copies++;
    }
    assert.ok(wrongs > 20);
    assert.ok(copies / wrongs > 0.4 && copies < wrongs, `${copies}/${wrongs} copied`);
  });
});

describe('simulated faults and waiting', () => {
  test('injected 429 carries retry-after; injected 5xx is retryable', async () => {
    const t = synthTask('gsm8k', 1);
    const e429 = await rejection(provider.chat(bb('gpt-4o'), req(t, { rate429: 1 })));
    assert.ok(e429 instanceof ProviderError);
    assert.equal(e429.status, 429);
    assert.equal(e429.retryable, true);
    assert.ok((e429.retryAfterS ?? 0) > 0);
    const e5xx = await rejection(provider.chat(bb('gpt-4o'), req(t, { rate5xx: 1 })));
    assert.ok(e5xx instanceof ProviderError);
    assert.ok((e5xx.status ?? 0) >= 500);
    assert.equal(e5xx.retryable, true);
  });

  test('fault rates hold over many calls, and retries (new seeds) get through', async () => {
    let faults = 0;
    const n = 600;
    for (let i = 0; i < n; i++) {
      const plan = planSimulatedCall(
        bb('gpt-4o-mini'),
        req(synthTask('mmlu', i), { rate429: 0.15, rate5xx: 0.1, seed: `attempt-${i}` }),
      );
      if (plan.kind === 'fault') faults++;
    }
    // P(fault) = 0.15 + 0.85 × 0.1 = 0.235
    assert.ok(Math.abs(faults / n - 0.235) < 0.05, `fault share ${faults / n}`);
  });

  test('modelled latency is really waited, scaled by timeFactor', async () => {
    const t = synthTask('gsm8k', 7);
    const r = req(t, { timeFactor: 0.1 });
    const modelled = planSimulatedCall(bb('gpt-4o'), r);
    assert.equal(modelled.kind, 'ok');
    const started = performance.now();
    const res = await provider.chat(bb('gpt-4o'), r);
    const elapsedS = (performance.now() - started) / 1000;
    const expected = res.timing.totalS * 0.1;
    assert.ok(elapsedS >= expected * 0.95 && elapsedS < expected + 0.15, `waited ${elapsedS} s for ${expected} s`);
  });

  test('an abort ends the wait promptly with the signal reason', async () => {
    const t = synthTask('gsm8k', 8);
    const ac = new AbortController();
    const reason = new Error('cancelled by the workflow');
    const call = provider.chat(bb('deepseek-r1'), req(t, { timeFactor: 1 }, { signal: ac.signal }));
    setTimeout(() => ac.abort(reason), 50);
    const started = performance.now();
    assert.equal(await rejection(call), reason);
    assert.ok(performance.now() - started < 300);
    const pre = new AbortController();
    pre.abort();
    const err = await rejection(provider.chat(bb('gpt-4o'), req(t, { timeFactor: 1 }, { signal: pre.signal })));
    assert.ok(err instanceof Error && err.name === 'AbortError');
  });
});

describe('pool files', () => {
  const goodYaml = `version: 1
name: tiny
simulated: true
priceTableVersion: test
sources:
  - { id: src, title: A source, url: "https://example.com" }
backbones:
  - id: tiny-a
    provider: simulated
    model: sim:tiny-a
    priceInPerMTok: 1
    priceOutPerMTok: 2
    latency: { ttftS: 0.1, prefillTps: 1000, decodeTps: 50 }
    contextWindow: 8000
    citedAccuracy:
      gsm8k: { value: 0.8, source: src }
    sources: [src]
`;

  test('a valid YAML pool parses, with defaults filled', () => {
    const p = parsePoolFile(goodYaml, 'tiny.yaml');
    assert.equal(p.backbones[0]?.reasoning, false);
    assert.equal(p.backbones[0]?.citedAccuracy?.gsm8k?.derived, false);
  });

  const bad: [string, string, RegExp][] = [
    [
      'wrong type',
      goodYaml.replace('priceInPerMTok: 1', 'priceInPerMTok: cheap'),
      /^bad\.yaml: backbones\[0\]\.priceInPerMTok: .*expected number.*\(backbone "tiny-a"\)$/m,
    ],
    ['negative latency', goodYaml.replace('ttftS: 0.1', 'ttftS: -1'), /^bad\.yaml: backbones\[0\]\.latency\.ttftS: Too small/m],
    [
      'missing field',
      goodYaml.replace('    contextWindow: 8000\n', ''),
      /^bad\.yaml: backbones\[0\]\.contextWindow: required field is missing/m,
    ],
    [
      'unknown field (typo)',
      goodYaml.replace('contextWindow:', 'contextWindw: 1\n    contextWindow:'),
      /^bad\.yaml: backbones\[0\]\.contextWindw: unknown field/m,
    ],
    [
      'unknown source',
      goodYaml.replace('sources: [src]', 'sources: [nope]'),
      /^bad\.yaml: backbones\[0\]\.sources\[0\]: unknown source "nope"/m,
    ],
    [
      'accuracy out of range',
      goodYaml.replace('value: 0.8', 'value: 80'),
      /^bad\.yaml: backbones\[0\]\.citedAccuracy\.gsm8k\.value: Too big/m,
    ],
    ['unknown benchmark', goodYaml.replace('gsm8k: {', 'gsm9k: {'), /^bad\.yaml: backbones\[0\]\.citedAccuracy\.gsm9k: /m],
    [
      'simulated flag mismatch',
      goodYaml.replace('simulated: true', 'simulated: false'),
      /^bad\.yaml: backbones\[0\]\.provider: provider "simulated" in a pool marked simulated: false/m,
    ],
    [
      'duplicate ids',
      goodYaml + goodYaml.slice(goodYaml.indexOf('  - id: tiny-a')),
      /^bad\.yaml: backbones\[1\]\.id: duplicate backbone id "tiny-a"/m,
    ],
    ['future version', goodYaml.replace('version: 1', 'version: 2'), /^bad\.yaml: version: unsupported pool-file version/m],
    ['YAML syntax', goodYaml.replace('sources: [src]', 'sources: [src'), /^bad\.yaml: line \d+, column \d+: invalid YAML: /m],
  ];
  for (const [name, text, expected] of bad) {
    test(`invalid file names file, field and reason: ${name}`, () => {
      assert.throws(
        () => parsePoolFile(text, 'bad.yaml'),
        (err: unknown) => err instanceof PoolFileError && err.file === 'bad.yaml' && expected.test(err.message),
      );
    });
  }

  test('JSON pool files and their syntax errors', () => {
    const json = JSON.stringify(parsePoolFile(goodYaml, 'tiny.yaml'));
    assert.equal(parsePoolFile(json, 'tiny.json').name, 'tiny');
    assert.throws(
      () => parsePoolFile('{"version": 1,', 'broken.json'),
      (e: unknown) => e instanceof PoolFileError && /^broken\.json: \(document\): invalid JSON/.test(e.message),
    );
  });

  test('loadPool: built-in names, files, and errors naming the file', () => {
    assert.equal(loadPool('sim-14'), pool);
    const dir = mkdtempSync(join(tmpdir(), 'pool-'));
    writeFileSync(join(dir, 'tiny.yaml'), goodYaml);
    writeFileSync(join(dir, 'bad.yaml'), goodYaml.replace('decodeTps: 50', 'decodeTps: 0'));
    assert.equal(loadPool('tiny.yaml', dir).name, 'tiny');
    assert.throws(
      () => loadPool('bad.yaml', dir),
      (e: unknown) => e instanceof PoolLoadError && /^bad\.yaml: backbones\[0\]\.latency\.decodeTps: Too small/.test(e.message),
    );
    assert.throws(
      () => loadPool('absent.yaml', dir),
      (e: unknown) => e instanceof PoolLoadError && /absent\.yaml: no such pool/.test(e.message),
    );
  });

  test('the example real pool file is valid', () => {
    const p = loadPool('infra/pools/openai-anthropic.example.yaml');
    assert.equal(p.simulated, false);
    assert.deepEqual([...new Set(p.backbones.map((b) => b.provider))].sort(), ['anthropic', 'openai']);
  });

  test('built-in sim-14: 14 simulated backbones with cited sources, reasoning flags and calibrated abilities', () => {
    assert.equal(pool.simulated, true);
    assert.equal(pool.backbones.length, 14);
    const sources = new Set(pool.sources.map((s) => s.id));
    for (const b of pool.backbones) {
      assert.equal(b.provider, 'simulated');
      assert.equal(b.model, `sim:${b.id}`);
      assert.equal(b.reasoning, ['o3-mini', 'o4-mini', 'deepseek-r1'].includes(b.id), b.id);
      for (const bench of ['gsm8k', 'svamp', 'multiarith', 'math500', 'aqua', 'mmlu', 'humaneval', 'mbpp'] as const) {
        const s = b.citedAccuracy?.[bench];
        assert.ok(s, `${b.id} ${bench}`);
        assert.ok(
          s.derived || (s.source !== undefined && sources.has(s.source)),
          `${b.id} ${bench}: public figures cite a source`,
        );
      }
      for (const d of ['math', 'knowledge', 'code'] as const) {
        const cited = b.citedAccuracy?.[DOMAIN_REFERENCE[d]]?.value ?? NaN;
        assert.ok(Math.abs((b.profile?.ability[d] ?? NaN) - domainAbility(d, cited)) < 0.01, `${b.id} ability ${d}`);
        assert.ok((b.profile?.meanOutputTokens[d] ?? 0) > 0);
      }
    }
  });
});

describe('pool CLI commands', () => {
  function run(args: string[]): { out: string[]; error?: unknown } {
    const out: string[] = [];
    const program = new Command('agentbalance').exitOverride();
    registerPoolCommands(program, { out: (t) => out.push(t) });
    try {
      program.parse(['node', 'agentbalance', ...args]);
      return { out };
    } catch (error) {
      return { out, error };
    }
  }

  test('pool list: a table with prices, latency and the simulated label', () => {
    const { out } = run(['pool', 'list']);
    const text = out.join('\n');
    assert.match(text, /^pool sim-14 \(SIMULATED/);
    assert.match(text, /\$in\/1M\s+\$out\/1M\s+ttft s\s+decode tok\/s/);
    assert.match(text, /^gpt-4o-mini\s+simulated\s+\$0\.15\s+\$0\.60\s+0\.40\s+80\s+simulated$/m);
    assert.equal(text.split('\n').filter((l) => / simulated$/.test(l)).length, 14);
  });

  test('pool show: a backbone (text and --json) and a whole pool file', () => {
    const text = run(['pool', 'show', 'deepseek-r1']).out.join('\n');
    assert.match(text, /SIMULATED/);
    assert.match(text, /math500\s+97\.3%\s+public\s+DeepSeek-R1 README/);
    const json = JSON.parse(run(['pool', 'show', 'gpt-4o', '--json']).out.join('')) as { id: string; priceInPerMTok: number };
    assert.deepEqual([json.id, json.priceInPerMTok], ['gpt-4o', 2.5]);
    assert.match(run(['pool', 'show', 'infra/pools/openai-anthropic.example.yaml']).out.join('\n'), /real providers/);
  });

  test('a bad pool file is a user error naming file, field and reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-cli-'));
    const file = join(dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, name: 'b', simulated: true, priceTableVersion: 'x', backbones: [{ id: 'UPPER' }] }),
    );
    const { error } = run(['pool', 'list', '--pool', file]);
    assert.ok(error instanceof UserError);
    assert.match(error.message, /broken\.json: backbones\[0\]\.id: lowercase id/);
    const unknown = run(['pool', 'show', 'gpt-5']).error;
    assert.ok(unknown instanceof UserError);
    assert.match(unknown.message, /gpt-5: not a backbone of pool sim-14/);
  });
});
