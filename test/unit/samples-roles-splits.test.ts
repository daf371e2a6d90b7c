import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BENCHMARK_DOMAIN, BenchmarkIdSchema, type Domain } from '../../core/domain';
import { gradeSync } from '../../core/graders';
import { answerFormatInstruction, decisionRole, rolePrompt, rolePrompts, rolesFor } from '../../core/roles';
import { getBuiltinSample } from '../../core/benchmarks/builtin';
import { splitIds, unitHash } from '../../core/splits';
import { TaskSchema } from '../../core/task';

describe('built-in samples', () => {
  it('have enough valid items with unique ids', () => {
    for (const id of ['sample-math', 'sample-mc', 'sample-code'] as const) {
      const tasks = getBuiltinSample(id);
      assert.ok(tasks.length >= (id === 'sample-code' ? 8 : 200), `${id}: ${tasks.length}`);
      assert.equal(new Set(tasks.map((t) => t.id)).size, tasks.length);
      for (const t of tasks) {
        TaskSchema.parse(t);
        assert.equal(t.domain, BENCHMARK_DOMAIN[id]);
      }
    }
  });

  it('are deterministic from the seed', () => {
    assert.deepEqual(getBuiltinSample('sample-math'), getBuiltinSample('sample-math'));
    assert.deepEqual(getBuiltinSample('sample-mc', { seed: 's1' }), getBuiltinSample('sample-mc', { seed: 's1' }));
    assert.notDeepEqual(getBuiltinSample('sample-mc', { seed: 's1' }), getBuiltinSample('sample-mc', { seed: 's2' }));
    assert.equal(getBuiltinSample('sample-math', { count: 500 }).length, 500);
  });

  it('grade their own gold answers as correct, and perturbed ones as wrong', () => {
    for (const t of getBuiltinSample('sample-math')) {
      assert.ok(t.answer.kind === 'numeric');
      if (t.answer.kind !== 'numeric') continue;
      assert.ok(Number.isFinite(Number(t.answer.value)), `${t.id}: ${t.answer.value}`);
      assert.equal(gradeSync(t, `Reasoning...\nAnswer: ${t.answer.value}`)?.correct, true, t.id);
      assert.equal(gradeSync(t, `Answer: ${Number(t.answer.value) + 1}`)?.correct, false, t.id);
    }
    for (const t of getBuiltinSample('sample-mc')) {
      assert.ok(t.answer.kind === 'choice');
      if (t.answer.kind !== 'choice') continue;
      assert.equal(t.answer.options.length, 4);
      assert.equal(new Set(t.answer.options).size, 4, `${t.id}: duplicate options`);
      assert.ok(t.question.includes(`(${t.answer.letter}) `));
      assert.equal(gradeSync(t, `Answer: (${t.answer.letter})`)?.correct, true);
      const wrong = ['A', 'B', 'C', 'D'].find((l) => l !== (t.answer.kind === 'choice' ? t.answer.letter : ''));
      assert.equal(gradeSync(t, `Answer: (${wrong})`)?.correct, false);
    }
  });

  it('spread the correct letter over the options', () => {
    const counts = new Map<string, number>();
    for (const t of getBuiltinSample('sample-mc')) if (t.answer.kind === 'choice') counts.set(t.answer.letter, (counts.get(t.answer.letter) ?? 0) + 1);
    for (const l of ['A', 'B', 'C', 'D']) assert.ok((counts.get(l) ?? 0) >= 30, `letter ${l}: ${counts.get(l)}`);
  });

  it('rejects an id that is not a sample', () => {
    assert.throws(() => getBuiltinSample('gsm8k'), /not a built-in sample/);
  });
});

describe('roles', () => {
  const DOMAINS: Domain[] = ['math', 'knowledge', 'code'];
  it('have the documented role sets and a decision agent per domain', () => {
    assert.deepEqual(rolesFor('math').map((r) => r.id), ['solver', 'analyst', 'programmer', 'inspector']);
    assert.deepEqual(rolesFor('knowledge').map((r) => r.id), ['expert', 'critic', 'fact_checker']);
    assert.deepEqual(rolesFor('code').map((r) => r.id), ['designer', 'programmer', 'tester', 'bug_fixer']);
    for (const d of DOMAINS) {
      const dec = decisionRole(d);
      assert.equal(dec.id, 'decision');
      assert.doesNotMatch(dec.prompt, /\{format\}/);
      assert.ok(rolesFor(d).every((r) => r.domain === d && r.name.length > 0));
    }
  });

  it('state the final-answer format the grader needs', () => {
    assert.match(answerFormatInstruction('math', 'gsm8k'), /Answer: <number>/);
    assert.match(answerFormatInstruction('math', 'math500'), /\\boxed/);
    assert.match(answerFormatInstruction('math', 'aqua'), /Answer: \(X\)/);
    assert.match(answerFormatInstruction('knowledge', 'mmlu'), /Answer: \(X\)/);
    assert.match(answerFormatInstruction('code', 'mbpp'), /```python/);
    assert.match(decisionRole('math', 'math500').prompt, /\\boxed/);
    assert.match(rolePrompt('math', 'solver', 'aqua'), /\n\nEnd your reply with .*Answer: \(X\)/);
    assert.throws(() => answerFormatInstruction('code', 'gsm8k'), /belongs to domain math/);
  });

  it('cover every benchmark of each domain and reject unknown roles', () => {
    for (const b of BenchmarkIdSchema.options) {
      const d = BENCHMARK_DOMAIN[b];
      assert.ok(answerFormatInstruction(d, b).length > 10, b);
      assert.deepEqual(Object.keys(rolePrompts(d, b)), [...rolesFor(d).map((r) => r.id), 'decision']);
    }
    assert.throws(() => rolePrompt('math', 'wizard'), /unknown role "wizard" in domain math; known: solver/);
  });
});

describe('splits', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `gsm8k/${i}`);
  it('are deterministic, disjoint, complete and close to the fractions', () => {
    const a = splitIds(ids, 'seed-1', { profile: 0.2, train: 0.5 });
    assert.deepEqual(a, splitIds(ids, 'seed-1', { profile: 0.2, train: 0.5 }));
    const all = [...a.profile, ...a.train, ...a.test];
    assert.equal(all.length, ids.length);
    assert.equal(new Set(all).size, ids.length);
    assert.ok(Math.abs(a.profile.length / 2000 - 0.2) < 0.04, `profile ${a.profile.length}`);
    assert.ok(Math.abs(a.train.length / 2000 - 0.5) < 0.04, `train ${a.train.length}`);
    assert.notDeepEqual(a, splitIds(ids, 'seed-2', { profile: 0.2, train: 0.5 }));
  });

  it('are stable when items are added or reordered', () => {
    const a = splitIds(ids.slice(0, 1000), 's', { profile: 0.3, train: 0.3 });
    const b = splitIds([...ids].reverse(), 's', { profile: 0.3, train: 0.3 });
    const inB = new Set(b.profile);
    assert.ok(a.profile.every((id) => inB.has(id)));
    assert.equal(b.profile.filter((id) => Number(id.split('/')[1]) < 1000).length, a.profile.length);
  });

  it('reject bad fractions and hash uniformly', () => {
    assert.throws(() => splitIds(ids, 's', { profile: 0.7, train: 0.5 }), /must not exceed 1/);
    const u = ids.map((id) => unitHash('x', id));
    assert.ok(u.every((x) => x >= 0 && x < 1));
    const mean = u.reduce((s, x) => s + x, 0) / u.length;
    assert.ok(Math.abs(mean - 0.5) < 0.03, `mean ${mean}`);
  });
});
