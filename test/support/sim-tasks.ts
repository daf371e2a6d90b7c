import type { BenchmarkId } from '../../core/domain';
import { BENCHMARK_DOMAIN } from '../../core/domain';
import type { Task } from '../../core/task';

/** Synthesized benchmark items for simulated-pool tests (no datasets needed). */
export function synthTask(benchmark: BenchmarkId, i: number): Task {
  const id = `${benchmark}/synth-${i}`;
  const domain = BENCHMARK_DOMAIN[benchmark];
  switch (domain) {
    case 'math':
      if (benchmark === 'math500') {
        return {
          id,
          benchmark,
          domain,
          question: `Simplify $\\frac{${i + 2}}{${2 * i + 4}}$.`,
          answer: { kind: 'math', value: '\\frac{1}{2}' },
        };
      }
      return {
        id,
        benchmark,
        domain,
        question: `A shop has ${i + 5} boxes with 12 pens each and sells ${i} pens. How many pens are left?`,
        answer: { kind: 'numeric', value: String((i + 5) * 12 - i) },
      };
    case 'knowledge': {
      const options = ['Mercury', 'Venus', 'Earth', 'Mars'];
      const letter = 'ABCD'[i % 4] ?? 'A';
      return {
        id,
        benchmark,
        domain,
        question: `Question ${i}: which option is correct?\n${options.map((o, k) => `(${'ABCD'[k]}) ${o}`).join('\n')}`,
        answer: { kind: 'choice', letter, options },
      };
    }
    case 'code': {
      const entryPoint = `count_above_${i}`;
      const prelude = `def ${entryPoint}(xs, limit):\n    """Return how many items of xs are greater than limit.\n    >>> ${entryPoint}([1, 5, 7], 4)\n    2\n    """\n`;
      const canonical = `    n = 0\n    for i in range(len(xs)):\n        if xs[i] > limit:\n            n += 1\n    return n\n`;
      return {
        id,
        benchmark,
        domain,
        question: prelude,
        answer: {
          kind: 'code',
          language: 'python',
          entryPoint,
          prelude,
          canonical,
          tests: `assert ${entryPoint}([1, 5, 7], 4) == 2\nassert ${entryPoint}([], 0) == 0\n`,
        },
      };
    }
  }
}

/**
 * An independent reading of simulated answers (not the simulator's own extractor): the last
 * `Answer: N`, the last `Answer: (X)`, the last \boxed{…}, or the python block equal to the reference.
 */
export function isRight(text: string, task: Task): boolean {
  const key = task.answer;
  switch (key.kind) {
    case 'numeric': {
      const all = [...text.matchAll(/Answer: (-?[\d.]+)/g)];
      return Number(all.at(-1)?.[1]) === Number(key.value);
    }
    case 'choice':
      return [...text.matchAll(/Answer: \(([A-J])\)/g)].at(-1)?.[1] === key.letter;
    case 'math':
      return [...text.matchAll(/\\boxed\{(.*)\}\$/g)].at(-1)?.[1] === key.value;
    case 'code': {
      const block = [...text.matchAll(/```python\n([\s\S]*?)\n```/g)].at(-1)?.[1];
      return block !== undefined && block.trim() === `${key.prelude}${key.canonical ?? ''}`.trim();
    }
  }
}
