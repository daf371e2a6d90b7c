import type { Domain } from '../../../core/domain';
import type { Rng } from '../../../core/random';
import { countTokens, decodeTokens, encodeTokens } from '../../../core/tokens';

/**
 * Reasoning prose for simulated answers, sized to a token target. Sentences carry no digits and no
 * option letters, so any grader reading the final answer line is never misled by the filler.
 */
const BANK: Readonly<Record<Domain | 'generic', readonly string[]>> = {
  math: [
    'Let me restate what the problem gives and what it asks for.',
    'I will name each unknown quantity before combining anything.',
    'The key relation links the quantities described in the second sentence.',
    'Working step by step keeps the arithmetic easy to check.',
    'First I compute the intermediate total, then I adjust it for the remaining condition.',
    'Multiplying the rate by the time gives the amount for that part.',
    'Subtracting what was used from what was available gives the remainder.',
    'I double-check the units so that the quantities are comparable.',
    'Combining the partial results gives the value the question asks for.',
    'A quick sanity check: the result has the right order of magnitude.',
    'Re-reading the question confirms which quantity is wanted.',
    'Nothing in the statement suggests a trick, so the direct computation stands.',
    'I keep fractions exact until the last step to avoid rounding errors.',
    'Setting up the equation and isolating the unknown gives its value.',
  ],
  knowledge: [
    'Let me recall the relevant facts before looking at the options.',
    'The question hinges on a definition that is worth stating precisely.',
    'Several options can be ruled out because they contradict well-established facts.',
    'One option is a common misconception and should be discarded.',
    'The remaining candidates differ in one detail that settles the matter.',
    'Thinking about the historical context helps to narrow the choice.',
    'The wording of the question points to the standard textbook result.',
    'Comparing the candidates against the definition leaves one consistent choice.',
    'I check that the chosen option answers exactly what was asked.',
    'The other options are either too broad or describe a different concept.',
    'This matches the principle usually taught in introductory courses.',
    'Considering edge cases does not change the conclusion.',
  ],
  code: [
    'Let me restate the specification and the expected behaviour.',
    'The function has to handle the empty input and other edge cases.',
    'A single pass over the input is enough here.',
    'I keep a running value and update it as I iterate.',
    'Using the standard library keeps the solution short and readable.',
    'The examples in the docstring confirm the intended output format.',
    'Sorting first would work but is not necessary.',
    'The loop bounds must cover every element exactly once.',
    'Returning early on the trivial case simplifies the main logic.',
    'The time complexity is linear in the size of the input.',
    'I trace the examples by hand to confirm the logic.',
    'Here is the complete implementation.',
  ],
  generic: [
    'This is a simulated response produced without calling any model.',
    'The simulator matches length, cost and latency to the chosen backbone.',
    'No answer key was supplied, so the content is a placeholder.',
    'The text exists only so that downstream agents receive realistic input sizes.',
    'Its length is sampled from the backbone profile for this role.',
  ],
};

const tokenCache = new Map<string, number>();

/** Tokens a sentence adds when appended after a space (cached: the bank is small). */
function sentenceTokens(sentence: string): number {
  let n = tokenCache.get(sentence);
  if (n === undefined) {
    n = countTokens(` ${sentence}`);
    tokenCache.set(sentence, n);
  }
  return n;
}

export interface Prose {
  text: string;
  /** Token count of `text` (sum of cached sentence counts: exact up to merges at the joins). */
  tokens: number;
}

/** A paragraph of about `target` tokens; stops at the sentence boundary nearest the target. */
export function composeProse(rng: Rng, domain: Domain | 'generic', target: number, opener?: string): Prose {
  const bank = BANK[domain];
  const parts: string[] = [];
  let tokens = 0;
  if (opener) {
    parts.push(opener);
    tokens += sentenceTokens(opener);
  }
  let prev = -1;
  while (tokens < target) {
    let i = rng.int(bank.length);
    if (i === prev) i = (i + 1) % bank.length;
    prev = i;
    const s = bank[i] ?? '';
    const n = sentenceTokens(s);
    // Add the sentence only if that lands closer to the target than stopping here (unbiased length).
    if (tokens + n - target > target - tokens) break;
    parts.push(s);
    tokens += n;
  }
  return { text: parts.join(' '), tokens };
}

/** The first `maxTokens` tokens of `text` (a cut mid-answer is what a real length cap does). */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const ids = encodeTokens(text);
  return ids.length <= maxTokens ? text : decodeTokens(ids.slice(0, maxTokens));
}
