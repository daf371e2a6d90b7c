import type { Domain } from '../../../core/domain';
import { callLatencyS, meanOutputTokens as modelledMeanOutputTokens, sigmoid } from '../../../core/estimate';
import type { Backbone } from '../../../core/pool';
import { DIFFICULTY_PRIOR, backboneTheta, citedAccuracyFor, expectedAccuracy, taskDifficulty } from '../../../core/sim/calibration';
import { hash32, lognormalWithMean, rngFor } from '../../../core/random';
import type { Task } from '../../../core/task';
import { countChatTokens, countTokens } from '../../../core/tokens';
import { abortableSleep } from '../abort';
import { judgeAnswer, rightFinal, wrongFinal } from './answers';
import { composeProse, truncateToTokens } from './text';
import { ProviderError, type ChatRequest, type ChatResponse, type Provider } from '../types';

/**
 * The simulated pool (docs/METHOD.md §5): a seeded stand-in for real backbones that
 * writes real right-or-wrong text, bills realistic token counts and takes modelled time.
 */

/** Peer effect on the logit: from SWAY_MIN (a backbone at 100 % accuracy) to SWAY_MAX (at 0 %). */
const PEER_SWAY_MIN = 0.4;
const PEER_SWAY_MAX = 3;
/** Chance that a wrong agent that saw wrong peer answers repeats one of them (herding). */
const COPY_WRONG_PEER = 0.6;
/** Log-sd of output lengths and the multiplicative latency jitter. */
const LENGTH_SPREAD = 0.35;
const REASONING_LENGTH_SPREAD = 0.5;
const LATENCY_JITTER = 0.12;
/** Visible answer length of reasoning backbones (the rest of their output is hidden reasoning). */
const REASONING_VISIBLE_MEAN: Readonly<Record<Domain, number>> = { math: 180, knowledge: 110, code: 200 };

/** Shorter outputs for roles that judge or summarise than for roles that solve. */
function roleLengthFactor(role: string): number {
  const r = role.toLowerCase();
  if (/decision|decide|final|judge|aggregat|summar/.test(r)) return 0.6;
  if (/critic|review|verif|check/.test(r)) return 0.8;
  return 1;
}

/** Mean output length of a call: the same model the planners predict with (core/estimate.ts). */
function meanOutputTokens(b: Backbone, domain: Domain | undefined): number {
  return modelledMeanOutputTokens({ reasoning: b.reasoning, meanOutputTokens: b.profile?.meanOutputTokens }, domain);
}

/** What one simulated call decides, before any waiting: the response, or the fault it raises. */
export type SimulatedPlan =
  | { kind: 'ok'; response: ChatResponse; waitS: number; correct?: boolean }
  | { kind: 'fault'; error: ProviderError; waitS: number };

interface Content {
  visible: string;
  visibleTokens: number;
  hiddenTokens: number;
  correct?: boolean;
}

function taskContent(b: Backbone, task: Task, role: string, peerTexts: readonly string[], key: string): Content {
  const domain = task.domain;
  const bench = task.benchmark;
  const theta = backboneTheta(b, bench);
  const accuracy = citedAccuracyFor(b, bench) ?? expectedAccuracy(theta, DIFFICULTY_PRIOR[bench]);

  // Peer effect: net share of predecessors that were right, scaled by how swayable this backbone is.
  let right = 0;
  const wrongFinals: string[] = [];
  for (const t of peerTexts) {
    const v = judgeAnswer(task, t);
    if (v.verdict === 'right') right++;
    else if (v.verdict === 'wrong') wrongFinals.push(v.final);
  }
  const judged = right + wrongFinals.length;
  const sway = PEER_SWAY_MIN + (PEER_SWAY_MAX - PEER_SWAY_MIN) * (1 - accuracy);
  const peerEffect = judged > 0 ? (sway * (right - wrongFinals.length)) / judged : 0;
  const p = sigmoid(theta - taskDifficulty(task.id, bench) + peerEffect);
  const correct = rngFor(key, 'correct').next() < p;

  const answerRng = rngFor(key, 'answer');
  let final: string;
  if (correct) final = rightFinal(task.answer);
  else if (wrongFinals.length > 0 && answerRng.next() < COPY_WRONG_PEER) final = answerRng.pick(wrongFinals);
  else final = wrongFinal(task.answer, answerRng);

  const lengthRng = rngFor(key, 'length');
  const mean = meanOutputTokens(b, domain) * roleLengthFactor(role);
  const total = Math.max(
    8,
    Math.round(lognormalWithMean(lengthRng, mean, b.reasoning ? REASONING_LENGTH_SPREAD : LENGTH_SPREAD)),
  );
  const visibleTarget = b.reasoning
    ? Math.min(
        total,
        Math.max(8, Math.round(lognormalWithMean(lengthRng, REASONING_VISIBLE_MEAN[domain] * roleLengthFactor(role), 0.3))),
      )
    : total;
  const finalTokens = countTokens(`\n\n${final}`);
  const opener = judged > 0 ? 'I took the previous answers into account.' : undefined;
  const prose = composeProse(rngFor(key, 'text'), domain, visibleTarget - finalTokens, opener);
  const visible = prose.text ? `${prose.text}\n\n${final}` : final;
  const visibleTokens = prose.tokens + finalTokens;
  return { visible, visibleTokens, hiddenTokens: Math.max(0, total - visibleTarget), correct };
}

function genericContent(b: Backbone, role: string, key: string): Content {
  const lengthRng = rngFor(key, 'length');
  const target = Math.max(
    16,
    Math.round(lognormalWithMean(lengthRng, meanOutputTokens(b, undefined) * roleLengthFactor(role), LENGTH_SPREAD)),
  );
  const opener = `[simulated answer from ${b.id}: no task or answer key was given, so this is not a real answer]`;
  const prose = composeProse(rngFor(key, 'text'), 'generic', target, opener);
  return { visible: prose.text, visibleTokens: prose.tokens, hiddenTokens: 0 };
}

/** The engine's per-call seed is `<run seed>/<agent id>/<attempt>` (workflows/run-mas.ts). */
export function parseCallSeed(seed: string): { base: string; agentId: string; attempt: string } {
  const a = seed.lastIndexOf('/');
  const b = a > 0 ? seed.lastIndexOf('/', a - 1) : -1;
  if (a < 0 || b < 0) return { base: seed, agentId: '', attempt: '1' };
  return { base: seed.slice(0, b), agentId: seed.slice(b + 1, a), attempt: seed.slice(a + 1) };
}

/**
 * Sample index of an agent: the trailing number of its id (`solver3` → 3, `decision-sample2` → 2),
 * else 1. Two agents of one MAS that send the same request to the same backbone are two samples
 * of it; the index tells them apart, and `decision` and `decision-sample1` are the same sample.
 */
export function sampleIndexOf(agentId: string): number {
  const m = /(\d+)$/.exec(agentId);
  return m ? Number(m[1]) : 1;
}

/**
 * Plans a simulated call: pure and deterministic. Common random numbers: what the call answers
 * (right or wrong, which wrong answer, its length, its latency jitter) is a function of
 * (run seed, backbone, task, exact prompt, sample index) only, so the same request gets the same
 * outcome in every method and at every budget, and paired differences between methods measure the
 * methods, not the dice. Faults also depend on the attempt, so a retry draws a fresh fault and
 * then the same answer. A campaign's run seed is the campaign's seed (activities/campaign.ts).
 */
export function planSimulatedCall(b: Backbone, req: ChatRequest): SimulatedPlan {
  const sim = req.simulation;
  const role = sim?.role ?? 'agent';
  const peerTexts = sim?.peerTexts ?? [];
  const task = sim?.task;
  const call = parseCallSeed(sim?.seed ?? '0');
  const promptHash = hash32(`${req.system}\u0000${req.messages.map((m) => `${m.role}:${m.content}`).join('\u0000')}`);
  // Peer texts are part of the prompt in the engine; hashed apart too for callers that pass them alone.
  const key = [
    call.base,
    b.id,
    task ? `${task.benchmark}/${task.id}` : 'free',
    promptHash,
    hash32(peerTexts.join('\u0000')),
    sampleIndexOf(call.agentId),
  ].join('|');
  const inputTokens = countChatTokens(req.system, req.messages);

  const faultRng = rngFor(key, call.attempt, 'fault');
  const u429 = faultRng.next();
  const u5xx = faultRng.next();
  if (u429 < (sim?.rate429 ?? 0)) {
    const retryAfterS = Math.round((0.5 + 1.5 * faultRng.next()) * 100) / 100;
    return {
      kind: 'fault',
      waitS: b.latency.ttftS * 0.3,
      error: new ProviderError(`simulated ${b.id}: HTTP 429: rate limit (injected)`, true, 429, retryAfterS),
    };
  }
  if (u5xx < (sim?.rate5xx ?? 0)) {
    const status = faultRng.pick([500, 502, 503]);
    return {
      kind: 'fault',
      waitS: callLatencyS(b.latency, inputTokens, 0),
      error: new ProviderError(`simulated ${b.id}: HTTP ${status}: transient server error (injected)`, true, status),
    };
  }

  const content = task ? taskContent(b, task, role, peerTexts, key) : genericContent(b, role, key);
  // The output cap binds hidden reasoning first, as real reasoning models spend it before answering.
  const cap = Math.max(0, Math.floor(req.maxTokens));
  const hidden = Math.min(content.hiddenTokens, cap);
  const visibleCap = cap - hidden;
  const truncated = content.visibleTokens > visibleCap;
  const text = truncated ? truncateToTokens(content.visible, visibleCap) : content.visible;
  const outputTokens = hidden + (truncated ? visibleCap : content.visibleTokens);

  const jitter = lognormalWithMean(rngFor(key, 'latency'), 1, LATENCY_JITTER);
  const totalS = callLatencyS(b.latency, inputTokens, outputTokens) * jitter;
  const ttftS = callLatencyS(b.latency, inputTokens, 0) * jitter;
  const response: ChatResponse = {
    text,
    usage: { inputTokens, outputTokens },
    timing: { ttftS, totalS },
    simulated: true,
  };
  // A truncated answer is whatever its text says now; `correct` is the intent before the cap.
  return {
    kind: 'ok',
    response,
    waitS: totalS,
    ...(content.correct !== undefined && !truncated ? { correct: content.correct } : {}),
  };
}

/** Provider `simulated`: waits the modelled time × timeFactor (abortable), then answers or fails. */
export class SimulatedProvider implements Provider {
  readonly kind = 'simulated' as const;

  async chat(backbone: Backbone, req: ChatRequest): Promise<ChatResponse> {
    const plan = planSimulatedCall(backbone, req);
    const timeFactor = req.simulation?.timeFactor ?? 0;
    await abortableSleep(plan.waitS * timeFactor * 1000, req.signal);
    if (plan.kind === 'fault') throw plan.error;
    return plan.response;
  }
}
