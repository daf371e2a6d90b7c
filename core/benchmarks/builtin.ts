/**
 * Built-in benchmarks written for this project, so everything runs without external data:
 * `sample-math` (procedural arithmetic word problems), `sample-mc` (procedural multiple choice:
 * arithmetic, unit conversion, fact-free logic, sequences) and `sample-code` (hand-written python
 * tasks with tests). Deterministic from a seed.
 */
import type { BenchmarkId } from '../domain';
import { BENCHMARK_DOMAIN } from '../domain';
import { formatChoiceQuestion } from './common';
import { formatNumber } from '../graders/numeric';
import { Rng } from '../random';
import type { Task } from '../task';

const DEFAULT_SAMPLE_SEED = 'agentbalance-sample-v1';
const DEFAULT_SAMPLE_COUNT = 240;

const NAMES = ['Ava', 'Ben', 'Chloe', 'Dev', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jamal', 'Kira', 'Liam', 'Mei', 'Noah', 'Olu', 'Priya'];
const ITEMS: readonly [string, string][] = [
  ['notebook', 'notebooks'],
  ['pencil', 'pencils'],
  ['apple', 'apples'],
  ['ticket', 'tickets'],
  ['plant', 'plants'],
  ['sticker', 'stickers'],
  ['book', 'books'],
  ['cupcake', 'cupcakes'],
];

// ---------------------------------------------------------------- sample-math

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type MathGen = (r: Rng) => { q: string; a: number };

const MATH_TEMPLATES: readonly MathGen[] = [
  (r) => {
    const name = r.pick(NAMES);
    const [, items] = r.pick(ITEMS);
    const n = r.intBetween(2, 9);
    const p = r.intBetween(2, 15);
    const bill = Math.ceil((n * p + 1) / 20) * 20;
    return {
      q: `${name} buys ${n} ${items} that cost $${p} each and pays with a $${bill} bill. How much change, in dollars, does ${name} get back?`,
      a: bill - n * p,
    };
  },
  (r) => {
    const name = r.pick(NAMES);
    const [, items] = r.pick(ITEMS);
    const k = r.intBetween(2, 8);
    const each = r.intBetween(3, 15);
    const total = k * each;
    const got = r.intBetween(1, total - 1);
    return {
      q: `${name} has ${total - got} ${items}. A friend gives ${name} ${got} more. ${name} then shares all of them equally among ${k} classmates. How many ${items} does each classmate get?`,
      a: each,
    };
  },
  (r) => {
    const rate = r.intBetween(12, 60);
    const hours = r.intBetween(3, 10);
    const days = r.intBetween(2, 6);
    return {
      q: `A machine packs ${rate} boxes per hour. It runs for ${hours} hours a day for ${days} days. How many boxes does it pack in total?`,
      a: rate * hours * days,
    };
  },
  (r) => {
    const name = r.pick(NAMES);
    const save = r.intBetween(5, 40);
    const weeks = r.intBetween(4, 12);
    const spend = r.intBetween(1, save * weeks - 1);
    return {
      q: `${name} saves $${save} every week for ${weeks} weeks, then spends $${spend} on a bike helmet. How many dollars does ${name} have left?`,
      a: save * weeks - spend,
    };
  },
  (r) => {
    const [item] = r.pick(ITEMS);
    const pct = r.pick([10, 20, 25, 50]);
    const price = r.intBetween(2, 30) * 20;
    return {
      q: `A ${item} set costs $${price}. During a sale the price is reduced by ${pct}%. What is the sale price in dollars?`,
      a: (price * (100 - pct)) / 100,
    };
  },
  (r) => {
    const [a, b] = r.shuffle(NAMES);
    const k = r.intBetween(2, 4);
    const age = r.intBetween(4, 15);
    const years = r.intBetween(2, 10);
    return {
      q: `${a} is ${k} times as old as ${b}. ${b} is ${age} years old. How old will ${a} be in ${years} years?`,
      a: k * age + years,
    };
  },
  (r) => {
    const v1 = r.intBetween(40, 90);
    const t1 = r.intBetween(1, 4);
    const v2 = r.intBetween(30, 80);
    const t2 = r.intBetween(1, 3);
    return {
      q: `A train travels at ${v1} km per hour for ${plural(t1, 'hour')} and then at ${v2} km per hour for ${t2} more ${t2 === 1 ? 'hour' : 'hours'}. How many kilometres does it travel in total?`,
      a: v1 * t1 + v2 * t2,
    };
  },
  (r) => {
    const seats = r.intBetween(20, 50);
    const students = r.intBetween(seats + 1, seats * 6);
    return {
      q: `${students} students are going on a trip. Each bus can carry ${seats} students. What is the smallest number of buses needed?`,
      a: Math.ceil(students / seats),
    };
  },
  (r) => {
    const name = r.pick(NAMES);
    const den = r.pick([2, 3, 4, 5]);
    const num = r.intBetween(1, den - 1);
    const total = den * r.intBetween(3, 20);
    return {
      q: `${name} had ${total} marbles and gave away ${num}/${den} of them. How many marbles does ${name} have left?`,
      a: total - (total * num) / den,
    };
  },
  (r) => {
    const rows = r.intBetween(4, 12);
    const per = r.intBetween(5, 15);
    const died = r.intBetween(1, rows);
    return {
      q: `A gardener plants ${rows} rows of tulips with ${per} tulips in each row. ${died} tulips do not grow. How many tulips grow?`,
      a: rows * per - died,
    };
  },
  (r) => {
    const [a, b] = r.shuffle(NAMES);
    const bill = r.intBetween(11, 99) + 0.5 * r.intBetween(0, 1);
    const tip = r.intBetween(2, 9);
    return {
      q: `${a} and ${b} split a restaurant bill of $${bill.toFixed(2)} plus a $${tip} tip equally. How many dollars does each of them pay?`,
      a: (bill + tip) / 2,
    };
  },
  (r) => {
    const w = r.intBetween(3, 20);
    const l = r.intBetween(w + 1, 30);
    const cost = r.intBetween(2, 9);
    return {
      q: `A rectangular floor is ${l} metres long and ${w} metres wide. Tiles cost $${cost} per square metre. How much does it cost, in dollars, to tile the whole floor?`,
      a: l * w * cost,
    };
  },
  (r) => {
    const start = r.intBetween(50, 200);
    const sold = r.intBetween(10, start - 10);
    const delivered = r.intBetween(5, 80);
    return {
      q: `A shop has ${start} loaves of bread in the morning. It sells ${sold} loaves and then receives a delivery of ${delivered} loaves. How many loaves does it have now?`,
      a: start - sold + delivered,
    };
  },
  (r) => {
    const temp = r.intBetween(-12, 5);
    const rise = r.intBetween(3, 20);
    const fall = r.intBetween(2, 25);
    return {
      q: `At dawn the temperature is ${temp} degrees Celsius. By noon it has risen by ${rise} degrees, and by midnight it has fallen by ${fall} degrees from the noon value. What is the temperature at midnight, in degrees Celsius?`,
      a: temp + rise - fall,
    };
  },
];

function sampleMath(seed: string, count: number): Task[] {
  const rng = new Rng(`${seed}/sample-math`);
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    const gen = MATH_TEMPLATES[i % MATH_TEMPLATES.length] as MathGen;
    const { q, a: value } = gen(rng);
    tasks.push({
      id: `sample-math/${i}`,
      benchmark: 'sample-math',
      domain: BENCHMARK_DOMAIN['sample-math'],
      question: q,
      answer: { kind: 'numeric', value: formatNumber(value) },
    });
  }
  return tasks;
}

// ---------------------------------------------------------------- sample-mc

type McGen = (r: Rng) => { stem: string; correct: string; distractors: string[] };

/** Distinct plausible wrong numbers near `x`. */
function numericDistractors(r: Rng, x: number, make: readonly ((x: number) => number)[]): string[] {
  const out = new Set<string>();
  for (const f of r.shuffle(make)) {
    const v = f(x);
    if (v !== x && Number.isFinite(v) && v >= 0) out.add(formatNumber(v));
    if (out.size === 3) break;
  }
  for (let d = 1; out.size < 3; d++) {
    const v = x + d * (r.next() < 0.5 ? 1 : -1) * r.intBetween(1, 3);
    if (v !== x && v >= 0) out.add(formatNumber(v));
  }
  return [...out];
}

const UNITS: readonly { from: string; to: string; factor: number }[] = [
  { from: 'metres', to: 'centimetres', factor: 100 },
  { from: 'kilometres', to: 'metres', factor: 1000 },
  { from: 'hours', to: 'minutes', factor: 60 },
  { from: 'minutes', to: 'seconds', factor: 60 },
  { from: 'kilograms', to: 'grams', factor: 1000 },
  { from: 'litres', to: 'millilitres', factor: 1000 },
  { from: 'days', to: 'hours', factor: 24 },
  { from: 'weeks', to: 'days', factor: 7 },
];

const NONSENSE = ['zorbs', 'plims', 'quaxes', 'fendles', 'grints', 'wubbles', 'tarps', 'mivs', 'snoods', 'krells'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const MC_TEMPLATES: readonly McGen[] = [
  (r) => {
    const a = r.intBetween(12, 99);
    const b = r.intBetween(11, 49);
    const x = a * b;
    return {
      stem: `What is ${a} × ${b}?`,
      correct: formatNumber(x),
      distractors: numericDistractors(r, x, [(v) => v + 10, (v) => v - 10, (v) => v + a, (v) => v - b, (v) => v + 100, (v) => v + 1]),
    };
  },
  (r) => {
    const u = r.pick(UNITS);
    const q = r.intBetween(2, 40) / r.pick([1, 2, 4]);
    const x = q * u.factor;
    return {
      stem: `How many ${u.to} are in ${formatNumber(q)} ${u.from}?`,
      correct: formatNumber(x),
      distractors: numericDistractors(r, x, [(v) => v / 10, (v) => v * 10, (v) => (v / u.factor) * (u.factor === 60 ? 100 : 60), (v) => v + u.factor]),
    };
  },
  (r) => {
    const names = r.shuffle(NAMES).slice(0, 4);
    const adj = r.pick([
      ['taller', 'shortest', 'tallest'],
      ['older', 'youngest', 'oldest'],
      ['faster', 'slowest', 'fastest'],
    ] as const);
    // names[0] > names[1] > names[2] > names[3]; the facts are stated in shuffled order
    const facts = r.shuffle([0, 1, 2]).map((i) => `${names[i]} is ${adj[0]} than ${names[i + 1]}.`);
    const askMin = r.next() < 0.5;
    const correct = askMin ? (names[3] as string) : (names[0] as string);
    return {
      stem: `${facts.join(' ')} Who is the ${askMin ? adj[1] : adj[2]}?`,
      correct,
      distractors: names.filter((n) => n !== correct),
    };
  },
  (r) => {
    const [a, b, c] = r.shuffle(NONSENSE);
    const kind = r.intBetween(0, 2);
    const choices = ['Yes, necessarily', 'No, never', 'Only some of them', 'It cannot be determined'];
    if (kind === 0) {
      return {
        stem: `All ${a} are ${b}. All ${b} are ${c}. Is every one of the ${a} also one of the ${c}?`,
        correct: choices[0] as string,
        distractors: choices.slice(1),
      };
    }
    if (kind === 1) {
      return {
        stem: `No ${a} are ${b}. All ${c} are ${a}. Can one of the ${c} be one of the ${b}?`,
        correct: choices[1] as string,
        distractors: choices.filter((_, i) => i !== 1),
      };
    }
    return {
      stem: `All ${a} are ${b}. Some ${b} are ${c}. Must at least one of the ${a} be one of the ${c}?`,
      correct: choices[3] as string,
      distractors: choices.slice(0, 3),
    };
  },
  (r) => {
    const geometric = r.next() < 0.4;
    const start = r.intBetween(1, 9);
    const step = geometric ? r.intBetween(2, 3) : r.intBetween(2, 12);
    const seq = Array.from({ length: 5 }, (_, i) => (geometric ? start * step ** i : start + step * i));
    const x = geometric ? start * step ** 5 : start + step * 5;
    return {
      stem: `What number comes next in the sequence ${seq.join(', ')}, ...?`,
      correct: formatNumber(x),
      distractors: numericDistractors(r, x, [(v) => v + step, (v) => v - 1, (v) => v + 1, (v) => (geometric ? v / step + step : v + step * 2)]),
    };
  },
  (r) => {
    const today = r.intBetween(0, 6);
    const ahead = r.intBetween(8, 40);
    const correct = DAYS[(today + ahead) % 7] as string;
    return {
      stem: `If today is ${DAYS[today]}, what day of the week will it be ${ahead} days from today?`,
      correct,
      distractors: r.shuffle(DAYS.filter((d) => d !== correct)).slice(0, 3),
    };
  },
];

function sampleMc(seed: string, count: number): Task[] {
  const rng = new Rng(`${seed}/sample-mc`);
  const tasks: Task[] = [];
  for (let i = 0; i < count; i++) {
    const gen = MC_TEMPLATES[i % MC_TEMPLATES.length] as McGen;
    const { stem, correct, distractors } = gen(rng);
    const options = rng.shuffle([correct, ...distractors.slice(0, 3)]);
    const letter = String.fromCharCode(65 + options.indexOf(correct));
    tasks.push({
      id: `sample-mc/${i}`,
      benchmark: 'sample-mc',
      domain: BENCHMARK_DOMAIN['sample-mc'],
      question: formatChoiceQuestion(stem, options),
      answer: { kind: 'choice', letter, options },
    });
  }
  return tasks;
}

// ---------------------------------------------------------------- sample-code

interface CodeSample {
  entryPoint: string;
  question: string;
  /** Set for function-completion items: the stub the answer completes. */
  prelude?: string;
  tests: string;
  canonical: string;
}

/** Hand-written for this project. Tests are plain asserts; two items are function completions. */
const SAMPLE_CODE_TASKS: readonly CodeSample[] = [
  {
    entryPoint: 'digit_sum',
    question: 'Write a Python function `digit_sum(n: int) -> int` that returns the sum of the decimal digits of n. Negative numbers use their absolute value.',
    tests: 'assert digit_sum(0) == 0\nassert digit_sum(12345) == 15\nassert digit_sum(-907) == 16\nassert digit_sum(10**12) == 1\n',
    canonical: 'def digit_sum(n: int) -> int:\n    return sum(int(c) for c in str(abs(n)))\n',
  },
  {
    entryPoint: 'is_palindrome',
    question: 'Write a Python function `is_palindrome(s: str) -> bool` that tells whether s reads the same forwards and backwards, ignoring case and every character that is not a letter or digit.',
    tests: 'assert is_palindrome("A man, a plan, a canal: Panama")\nassert not is_palindrome("hello")\nassert is_palindrome("")\nassert is_palindrome("No \'x\' in Nixon")\nassert not is_palindrome("ab1")\n',
    canonical: 'def is_palindrome(s: str) -> bool:\n    t = [c.lower() for c in s if c.isalnum()]\n    return t == t[::-1]\n',
  },
  {
    entryPoint: 'run_length',
    question: 'Write a Python function `run_length(s: str) -> str` that run-length encodes s: each maximal run of one character becomes the character followed by the run length, e.g. "aaabcc" -> "a3b1c2". The empty string encodes to "".',
    tests: 'assert run_length("aaabcc") == "a3b1c2"\nassert run_length("") == ""\nassert run_length("z") == "z1"\nassert run_length("aaaaaaaaaaaa") == "a12"\nassert run_length("abab") == "a1b1a1b1"\n',
    canonical:
      'def run_length(s: str) -> str:\n    out = []\n    i = 0\n    while i < len(s):\n        j = i\n        while j < len(s) and s[j] == s[i]:\n            j += 1\n        out.append(f"{s[i]}{j - i}")\n        i = j\n    return "".join(out)\n',
  },
  {
    entryPoint: 'second_largest',
    question: 'Write a Python function `second_largest(xs: list[int]) -> int | None` that returns the second largest distinct value in xs, or None when there are fewer than two distinct values.',
    tests: 'assert second_largest([3, 1, 4, 1, 5]) == 4\nassert second_largest([7, 7, 7]) is None\nassert second_largest([]) is None\nassert second_largest([-2, -5]) == -5\nassert second_largest([5, 5, 4]) == 4\n',
    canonical: 'def second_largest(xs):\n    d = sorted(set(xs))\n    return d[-2] if len(d) >= 2 else None\n',
  },
  {
    entryPoint: 'flatten',
    question: 'Write a Python function `flatten(nested: list) -> list` that flattens arbitrarily nested lists into one list, keeping the order of the elements. Only lists are flattened; tuples and strings stay whole.',
    tests: 'assert flatten([1, [2, [3, [4]], 5]]) == [1, 2, 3, 4, 5]\nassert flatten([]) == []\nassert flatten([[], [[]]]) == []\nassert flatten(["ab", (1, 2), [3]]) == ["ab", (1, 2), 3]\n',
    canonical:
      'def flatten(nested):\n    out = []\n    for x in nested:\n        if isinstance(x, list):\n            out.extend(flatten(x))\n        else:\n            out.append(x)\n    return out\n',
  },
  {
    entryPoint: 'merge_intervals',
    question: 'Write a Python function `merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]` that merges overlapping or touching closed intervals and returns them sorted by start. For example [(1, 3), (2, 6), (8, 10), (10, 12)] -> [(1, 6), (8, 12)].',
    tests: 'assert merge_intervals([(1, 3), (2, 6), (8, 10), (10, 12)]) == [(1, 6), (8, 12)]\nassert merge_intervals([]) == []\nassert merge_intervals([(5, 7), (1, 2)]) == [(1, 2), (5, 7)]\nassert merge_intervals([(1, 10), (2, 3)]) == [(1, 10)]\n',
    canonical:
      'def merge_intervals(intervals):\n    out = []\n    for a, b in sorted(intervals):\n        if out and a <= out[-1][1]:\n            out[-1] = (out[-1][0], max(out[-1][1], b))\n        else:\n            out.append((a, b))\n    return out\n',
  },
  {
    entryPoint: 'rotate',
    question: 'Write a Python function `rotate(xs: list, k: int) -> list` that returns xs rotated right by k positions (k may be negative or larger than the length). The input list must not be modified.',
    tests: 'assert rotate([1, 2, 3, 4, 5], 2) == [4, 5, 1, 2, 3]\nassert rotate([1, 2, 3], -1) == [2, 3, 1]\nassert rotate([], 3) == []\nassert rotate([1, 2], 5) == [2, 1]\nxs = [1, 2, 3]\nrotate(xs, 1)\nassert xs == [1, 2, 3]\n',
    canonical: 'def rotate(xs, k):\n    if not xs:\n        return []\n    k %= len(xs)\n    return xs[-k:] + xs[:-k] if k else list(xs)\n',
  },
  {
    entryPoint: 'word_counts',
    question: 'Write a Python function `word_counts(text: str) -> dict[str, int]` that counts words case-insensitively. A word is a maximal run of letters a-z (after lower-casing); everything else separates words.',
    tests: 'assert word_counts("The cat and the hat.") == {"the": 2, "cat": 1, "and": 1, "hat": 1}\nassert word_counts("") == {}\nassert word_counts("it\'s IT") == {"it": 2, "s": 1}\nassert word_counts("a1b") == {"a": 1, "b": 1}\n',
    canonical: 'import re\n\ndef word_counts(text):\n    out = {}\n    for w in re.findall(r"[a-z]+", text.lower()):\n        out[w] = out.get(w, 0) + 1\n    return out\n',
  },
  {
    entryPoint: 'primes_below',
    question: 'Complete the following Python function:',
    prelude: 'def primes_below(n: int) -> list[int]:\n    """Return all prime numbers smaller than n, in increasing order.\n    >>> primes_below(10)\n    [2, 3, 5, 7]\n    """\n',
    tests: 'assert primes_below(10) == [2, 3, 5, 7]\nassert primes_below(2) == []\nassert primes_below(0) == []\nassert primes_below(30) == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]\nassert len(primes_below(10000)) == 1229\n',
    canonical:
      'def primes_below(n: int) -> list[int]:\n    if n < 3:\n        return []\n    sieve = [True] * n\n    sieve[0] = sieve[1] = False\n    for i in range(2, int(n ** 0.5) + 1):\n        if sieve[i]:\n            sieve[i * i::i] = [False] * len(range(i * i, n, i))\n    return [i for i, p in enumerate(sieve) if p]\n',
  },
  {
    entryPoint: 'balanced',
    question: 'Complete the following Python function:',
    prelude: 'def balanced(s: str) -> bool:\n    """Return True when every bracket in s ((), [], {}) is closed in the right order.\n    Other characters are ignored.\n    >>> balanced("a(b[c]{d})")\n    True\n    >>> balanced("(]")\n    False\n    """\n',
    tests: 'assert balanced("a(b[c]{d})")\nassert not balanced("(]")\nassert balanced("")\nassert not balanced("((")\nassert not balanced("))((")\nassert balanced("{[()()]}")\n',
    canonical:
      'def balanced(s: str) -> bool:\n    pairs = {")": "(", "]": "[", "}": "{"}\n    stack = []\n    for c in s:\n        if c in "([{":\n            stack.append(c)\n        elif c in pairs:\n            if not stack or stack.pop() != pairs[c]:\n                return False\n    return not stack\n',
  },
];

function sampleCode(): Task[] {
  return SAMPLE_CODE_TASKS.map((t, i) => ({
    id: `sample-code/${i}`,
    benchmark: 'sample-code',
    domain: BENCHMARK_DOMAIN['sample-code'],
    question: t.prelude ? `${t.question}\n\n\`\`\`python\n${t.prelude.trimEnd()}\n\`\`\`` : t.question,
    answer: {
      kind: 'code',
      language: 'python',
      entryPoint: t.entryPoint,
      prelude: t.prelude ?? '',
      tests: t.tests,
      canonical: t.canonical,
    },
  }));
}

export interface SampleOptions {
  seed?: string;
  /** Items for the generated samples (sample-code has a fixed size). */
  count?: number;
}

const SAMPLE_BENCHMARKS = ['sample-math', 'sample-mc', 'sample-code'] as const satisfies readonly BenchmarkId[];

/** The built-in sample's tasks; throws for an id that is not a built-in sample. */
export function getBuiltinSample(id: BenchmarkId, options: SampleOptions = {}): Task[] {
  const seed = options.seed ?? DEFAULT_SAMPLE_SEED;
  const count = options.count ?? DEFAULT_SAMPLE_COUNT;
  if (!Number.isInteger(count) || count < 1) throw new Error(`sample count must be a positive integer, got ${count}`);
  switch (id) {
    case 'sample-math':
      return sampleMath(seed, count);
    case 'sample-mc':
      return sampleMc(seed, count);
    case 'sample-code':
      return sampleCode();
    default:
      throw new Error(`${id} is not a built-in sample (built-in: ${SAMPLE_BENCHMARKS.join(', ')})`);
  }
}
