import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  extractChoice,
  extractCode,
  extractFinalNumber,
  gradeChoice,
  gradeMath,
  gradeNumeric,
  gradeSync,
  mathEquivalent,
} from '../../core/graders';
import type { Task } from '../../core/task';

const num = (text: string, gold: string): boolean => gradeNumeric(text, gold).correct;

describe('numeric grader', () => {
  it('prefers an explicit final answer over the last number', () => {
    assert.equal(extractFinalNumber('The answer is 16. Check: 16 / 2 = 8.')?.text, '16');
    assert.equal(extractFinalNumber('Work: 3 + 4 = 7\n#### 72\n(3 steps)')?.text, '72');
    assert.equal(extractFinalNumber('\\boxed{42}, and 43 is wrong')?.text, '42');
    assert.equal(extractFinalNumber('Agent 1: Answer: 17\nMy check gives 18.\nAnswer: 18')?.text, '18');
    assert.equal(extractFinalNumber('Final answer: $\\boxed{7}$.')?.text, '7');
  });
  it('falls back to the last number', () => {
    assert.ok(num('Step 1: 5 + 3 = 8. Step 2: 8 * 2 = 16', '16'));
    assert.ok(num('5-3 = 2', '2'));
    assert.equal(gradeNumeric('no number at all', '5').extracted, null);
  });
  it('handles separators, currency, units and percent', () => {
    assert.ok(num('Answer: 1,234', '1234'));
    assert.ok(num('Answer: $1,450,000', '1,450,000'));
    assert.ok(!num('Answer: 1450001', '1450000'));
    assert.ok(num('She pays $18.00 in total.', '18'));
    assert.ok(num('Answer: 12.50 dollars', '12.5'));
    assert.ok(num('The answer is 10km', '10'));
    assert.ok(num('Answer: 25%', '25'));
    assert.ok(num('Answer: **38.25**', '38.25'));
  });
  it('handles negatives, decimals, fractions and trailing .0', () => {
    assert.ok(num('temperature falls to -10 degrees', '-10'));
    assert.ok(num('x = −7', '-7'));
    assert.ok(num('Answer: -$5', '-5'));
    assert.ok(!num('Answer: 5', '-5'));
    assert.ok(num('she gets 3/4 of the pie', '0.75'));
    assert.ok(num('0.75', '3/4'));
    assert.ok(num('\\boxed{\\frac{3}{4}}', '0.75'));
    assert.ok(num('It is 5.0', '5'));
    assert.ok(num('Answer: .5', '0.5'));
    assert.ok(num('Answer: 51', '51.0'));
  });
});

const math = (text: string, gold: string): boolean => gradeMath(text, gold).correct;

describe('MATH grader', () => {
  it('reads the last \\boxed{} with nested braces', () => {
    assert.equal(gradeMath('first \\boxed{1}, then \\boxed{\\frac{\\sqrt{3}}{2}}', 'x').extracted, '\\frac{\\sqrt{3}}{2}');
    assert.ok(math('so $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$', '\\left( 3, \\frac{\\pi}{2} \\right)'));
    assert.ok(math('\\boxed{\\boxed{5}}', '5'));
    assert.ok(math('The answer is $\\frac{3}{56}$.', '\\frac{3}{56}'));
  });
  it('normalises fractions, spacing, degrees, text and dollars', () => {
    assert.ok(math('\\boxed{\\dfrac12}', '\\frac{1}{2}'));
    assert.ok(math('\\boxed{\\tfrac{3}{4}}', '0.75'));
    assert.ok(math('\\boxed{0.5}', '\\frac12'));
    assert.ok(math('\\boxed{90^\\circ}', '90'));
    assert.ok(math('\\boxed{90}', '90^{\\circ}'));
    assert.ok(math('\\boxed{\\text{Evelyn}}', '\\text{Evelyn}'));
    assert.ok(!math('\\boxed{Evelny}', '\\text{Evelyn}'));
    assert.ok(math('\\boxed{\\$18.90}', '18.90'));
    assert.ok(math('\\boxed{5.4}', '5.4 \\text{ cents}'));
    assert.ok(math('\\boxed{10{,}000}', '10000'));
    assert.ok(math('\\boxed{10,000}', '10000'));
    assert.ok(math('\\boxed{x=5}', '5'));
    assert.ok(math('\\boxed{52_{8}}', '52_8'));
    assert.ok(math('\\boxed{6-5i}', '6 - 5i'));
    assert.ok(!mathEquivalent('225', '15\\mbox{ cm}^2'));
  });
  it('compares numeric expressions by value', () => {
    assert.ok(math('\\boxed{2\\sqrt{2}}', '\\sqrt{8}'));
    assert.ok(math('\\boxed{\\sqrt8}', '2\\sqrt2'));
    assert.ok(math('\\boxed{\\frac{270}{7}}', '\\frac{270}7\\text{ degrees}'));
    assert.ok(math('\\boxed{-q+p}', 'p - q'));
    assert.ok(math('\\boxed{x^2+2x+1}', '(x+1)^2'));
    assert.ok(!math('\\boxed{x^2+2x}', '(x+1)^2'));
    assert.ok(!math('\\boxed{\\pi}', '3.14'));
    assert.ok(!math('\\boxed{1}', '2'));
  });
  it('normalises intervals, tuples and lists', () => {
    assert.ok(math('\\boxed{(3,\\pi/2)}', '\\left( 3, \\frac{\\pi}{2} \\right)'));
    assert.ok(math('\\boxed{[2,5)}', '[2, 5)'));
    assert.ok(!math('\\boxed{(2,5)}', '[2,5)'));
    assert.ok(math('\\boxed{(-\\infty, 3]}', '(-\\infty,3]'));
    assert.ok(math('\\boxed{(-\\infty,1)\\cup(2,\\infty)}', '(-\\infty, 1) \\cup (2, \\infty)'));
    assert.ok(!math('\\boxed{(2,1)}', '(1,2)'));
    assert.ok(math('\\boxed{-2, 1}', '1,-2'));
    assert.ok(math('\\boxed{\\{1,2\\}}', '\\{2,1\\}'));
  });
});

const OPTIONS = ['Paris', 'London', 'Berlin', 'Madrid'];
const pick = (text: string): string | null => extractChoice(text, OPTIONS);

describe('choice grader', () => {
  it('reads explicit answers', () => {
    assert.equal(pick('Answer: (C)'), 'C');
    assert.equal(pick('the answer is C.'), 'C');
    assert.equal(pick('**Answer: B**'), 'B');
    assert.equal(pick('Final answer: D) Madrid'), 'D');
    assert.equal(pick('\\boxed{D}'), 'D');
    assert.equal(pick('It could be A or B. Answer: A'), 'A');
    assert.equal(pick('A careful look shows the answer is B'), 'B');
  });
  it('falls back to (X), then the last standalone valid letter', () => {
    assert.equal(pick('I think (B) is right'), 'B');
    assert.equal(pick('P(B) = 0.5, so A'), 'A');
    assert.equal(pick('Option A is wrong, D fits best.'), 'D');
    assert.equal(pick('A is wrong. I think so.'), 'A');
    assert.equal(pick('A car and I went there'), null);
    assert.equal(pick('Answer: (E)'), null, 'E is not a valid option with four options');
    assert.equal(extractChoice('Answer: (E)', ['1', '2', '3', '4', '5']), 'E');
  });
  it('matches option text when no letter is given', () => {
    assert.equal(pick('Answer: Berlin'), 'C');
    assert.equal(pick('After thinking, berlin.'), 'C');
    assert.equal(pick('The capital is London'), 'B');
    assert.equal(extractChoice('so the price is $67.4', ['$61', '$65', '$67.40', '$70']), 'C');
    assert.deepEqual(gradeChoice('Answer: Madrid', 'D', OPTIONS), { correct: true, extracted: 'D' });
  });
});

describe('gradeSync and extractCode', () => {
  const base = { id: 't/1', benchmark: 'gsm8k', domain: 'math', question: 'q' } as const;
  it('dispatches by answer kind and returns null for code', () => {
    assert.deepEqual(gradeSync({ ...base, answer: { kind: 'numeric', value: '18' } }, 'Answer: 18'), { correct: true, extracted: '18' });
    const mc: Task = { ...base, benchmark: 'mmlu', domain: 'knowledge', answer: { kind: 'choice', letter: 'B', options: OPTIONS } };
    assert.equal(gradeSync(mc, 'Answer: (B)')?.correct, true);
    const code: Task = {
      ...base,
      benchmark: 'mbpp',
      domain: 'code',
      answer: { kind: 'code', language: 'python', entryPoint: 'f', tests: 'assert f() == 1', prelude: '' },
    };
    assert.equal(gradeSync(code, 'def f(): return 1'), null);
  });
  it('extracts the last python block, else any block, else the text', () => {
    assert.equal(extractCode('a\n```python\ndef f():\n    return 1\n```\nb\n```python\ndef f():\n    return 2\n```\n'), 'def f():\n    return 2\n');
    assert.equal(extractCode('```py\nx = 5\n```\n```text\nout\n```'), 'x = 5\n');
    assert.equal(extractCode('```\nx = 4\n```'), 'x = 4\n');
    assert.equal(extractCode('def f(): return 3'), 'def f(): return 3');
  });
});
