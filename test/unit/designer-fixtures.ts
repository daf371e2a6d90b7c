import type { Domain } from '../../core/domain';
import type { Backbone } from '../../core/pool';
import type { RoleInfo } from '../../core/designer/designer';
import { Rng } from '../../core/random';

/** A small hand-made pool with realistic price/latency/ability spreads (no pool file needed). */
export function smallPool(): Backbone[] {
  const mk = (
    id: string,
    pin: number,
    pout: number,
    ttft: number,
    decode: number,
    ability: number,
    out: number,
    reasoning = false,
  ): Backbone => ({
    id,
    provider: 'simulated',
    model: id,
    priceInPerMTok: pin,
    priceOutPerMTok: pout,
    latency: { ttftS: ttft, prefillTps: 4000, decodeTps: decode },
    contextWindow: 128000,
    reasoning,
    profile: {
      ability: { math: ability, knowledge: ability + 0.2, code: ability - 0.2 },
      meanOutputTokens: { math: out, knowledge: out * 0.6, code: out * 1.2 },
    },
  });
  return [
    mk('open-small', 0.05, 0.1, 0.2, 200, -1, 250),
    mk('mini', 0.15, 0.6, 0.3, 110, 0.3, 300),
    mk('mid', 0.5, 1.5, 0.4, 90, 0.8, 320),
    mk('big', 2.5, 10, 0.5, 80, 1.5, 350),
    mk('flagship', 3, 15, 0.8, 60, 1.8, 400),
    mk('reason-small', 1.1, 4.4, 1, 120, 2.2, 1500, true),
    mk('reason-big', 15, 60, 2, 50, 2.8, 2000, true),
  ];
}

export const MATH_ROLES: RoleInfo[] = [
  {
    id: 'analyst',
    domain: 'math',
    prompt: 'You are a math analyst. Restate the problem, list the known quantities and what is asked.',
  },
  {
    id: 'solver',
    domain: 'math',
    prompt: 'You are a careful math solver. Solve the problem step by step and give the final number.',
  },
  {
    id: 'verifier',
    domain: 'math',
    prompt: "You are a verifier. Check the other agents' reasoning and arithmetic and point out errors.",
  },
  {
    id: 'programmer',
    domain: 'math',
    prompt: 'You are a programmer. Write a short calculation that computes the answer, then state it.',
  },
  {
    id: 'decision',
    domain: 'math',
    prompt: 'You are the final decision maker. Read the messages and give the single final answer.',
  },
];

export const KNOWLEDGE_ROLES: RoleInfo[] = [
  { id: 'expert', domain: 'knowledge', prompt: 'You are a domain expert. Answer the multiple-choice question with a letter.' },
  { id: 'critic', domain: 'knowledge', prompt: 'You are a critic. Examine each option and eliminate wrong ones.' },
  { id: 'decision', domain: 'knowledge', prompt: 'You are the final decision maker. Give the single final option letter.' },
];

export const ROLES_BY_DOMAIN: Record<Domain, RoleInfo[]> = {
  math: MATH_ROLES,
  knowledge: KNOWLEDGE_ROLES,
  code: [
    { id: 'coder', domain: 'code', prompt: 'You are a Python programmer. Write the function.' },
    { id: 'tester', domain: 'code', prompt: 'You are a tester. Write tests and report failures.' },
    { id: 'decision', domain: 'code', prompt: 'You are the final decision maker. Output the final code.' },
  ],
};

const WORDS = [
  'apples',
  'train',
  'speed',
  'hours',
  'price',
  'total',
  'each',
  'more',
  'than',
  'twice',
  'half',
  'sold',
  'left',
  'bought',
  'minutes',
  'miles',
];

/** Synthetic math-style queries with a latent difficulty that grows with their length and numbers. */
export function syntheticQueries(n: number, seed = 'queries'): { text: string; difficulty: number }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const steps = 1 + rng.int(6);
    const parts: string[] = [];
    for (let s = 0; s < steps; s++)
      parts.push(`${WORDS[rng.int(WORDS.length)]} ${1 + rng.int(500)} ${WORDS[rng.int(WORDS.length)]}`);
    return { text: `Q${i}: ${parts.join(', ')}. How many in total?`, difficulty: -1.5 + 0.6 * steps + 0.3 * rng.normal() };
  });
}

/** A random pool for property tests. */
export function randomPool(rng: Rng, size: number): Backbone[] {
  return Array.from({ length: size }, (_, i) => {
    const reasoning = rng.next() < 0.2;
    const ability = -1.5 + 4 * rng.next() + (reasoning ? 0.8 : 0);
    return {
      id: `m${i}`,
      provider: 'simulated' as const,
      model: `m${i}`,
      priceInPerMTok: rng.logUniform(0.02, 20),
      priceOutPerMTok: rng.logUniform(0.05, 80),
      latency: { ttftS: rng.logUniform(0.05, 3), prefillTps: rng.logUniform(500, 20000), decodeTps: rng.logUniform(20, 300) },
      contextWindow: 32000,
      reasoning,
      profile: {
        ability: { math: ability, knowledge: ability + rng.normal() * 0.3, code: ability + rng.normal() * 0.3 },
        meanOutputTokens: { math: rng.logUniform(80, reasoning ? 3000 : 800) },
      },
    };
  });
}
