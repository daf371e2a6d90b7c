/**
 * The workflow's token-cost ledger. Every model call first *reserves* an amount (its hard cost cap),
 * then *settles* with the usage the provider reported. Calls never spend more than they reserved
 * (the activity caps max_tokens by the reservation and skips calls whose input alone would not
 * fit), and reservations never exceed what is left, so spending can never pass the budget.
 */
export class CostLedger {
  private spent = 0;
  private readonly reservations = new Map<string, number>();
  /** Calls whose reported cost exceeded their reservation (only possible if a real provider counted more input tokens than our safety margin). */
  readonly overshoots: { key: string; reservedUsd: number; actualUsd: number }[] = [];

  /** Relative slack that absorbs float rounding in the running sums, so `spent <= limit` holds exactly. */
  private static readonly SLACK = 1e-12;

  constructor(readonly limitUsd: number | undefined) {}

  get spentUsd(): number {
    return this.spent;
  }

  get reservedUsd(): number {
    let r = 0;
    for (const v of this.reservations.values()) r += v;
    return r;
  }

  /** What may still be reserved (Infinity without a budget). */
  available(): number {
    if (this.limitUsd === undefined) return Infinity;
    const left = this.limitUsd * (1 - CostLedger.SLACK) - this.spent - this.reservedUsd;
    return left > 0 ? left : 0;
  }

  /** Reserves up to `wantedUsd` for call `key`; returns the amount granted (possibly 0). */
  reserve(key: string, wantedUsd: number): number {
    if (this.reservations.has(key)) throw new Error(`ledger: "${key}" already holds a reservation`);
    const granted = Math.max(0, Math.min(wantedUsd, this.available()));
    this.reservations.set(key, granted);
    return granted;
  }

  /** Books a finished (or failed, or cancelled) call's real cost and releases its reservation. */
  settle(key: string, actualUsd: number): void {
    const reserved = this.reservations.get(key);
    if (reserved === undefined) throw new Error(`ledger: "${key}" has no reservation`);
    this.reservations.delete(key);
    if (!(actualUsd >= 0) || !Number.isFinite(actualUsd)) throw new Error(`ledger: bad cost ${actualUsd} for "${key}"`);
    if (actualUsd > reserved) this.overshoots.push({ key, reservedUsd: reserved, actualUsd });
    this.spent += actualUsd;
  }
}

/**
 * How much of what is available one call may reserve, given the worst-case request of every call
 * still to come (this one included): everyone gets their full request when it all fits, otherwise
 * a share proportional to the request, so calls later in the DAG (the decision agent above all)
 * are not starved by the first layer.
 */
export function fairShare(available: number, request: number, pendingRequests: readonly number[]): number {
  if (!Number.isFinite(available)) return request;
  const total = pendingRequests.reduce((a, b) => a + b, 0);
  if (total <= available || total === 0) return Math.min(request, available);
  return (available * request) / total;
}

/**
 * The output-token cap that keeps a call inside its cost cap, given its exact input token count.
 * Returns 0 when even the input would not fit (the call must then be skipped).
 */
export function maxTokensWithinCost(
  capUsd: number,
  inputTokens: number,
  priceInPerMTok: number,
  priceOutPerMTok: number,
  wantedMaxTokens: number,
): number {
  if (!Number.isFinite(capUsd)) return wantedMaxTokens;
  const inCost = (inputTokens * priceInPerMTok) / 1e6;
  if (inCost > capUsd) return 0;
  if (priceOutPerMTok === 0) return wantedMaxTokens;
  // The tiny relative margin keeps float rounding from pushing n_out*p_out just over the cap.
  const affordable = Math.floor((((capUsd - inCost) * 1e6) / priceOutPerMTok) * (1 - 1e-9));
  return Math.max(0, Math.min(wantedMaxTokens, affordable));
}

/**
 * The output-token cap that keeps a call inside the time left before its deadline, per the
 * backbone's latency model. Returns 0 when even the first token would come too late.
 */
export function maxTokensWithinTime(
  secondsLeft: number,
  inputTokens: number,
  latency: { ttftS: number; prefillTps: number; decodeTps: number },
  wantedMaxTokens: number,
): number {
  if (!Number.isFinite(secondsLeft)) return wantedMaxTokens;
  const fixed = latency.ttftS + inputTokens / latency.prefillTps;
  if (fixed >= secondsLeft) return 0;
  return Math.max(0, Math.min(wantedMaxTokens, Math.floor((secondsLeft - fixed) * latency.decodeTps)));
}

/**
 * The cost ledger of one run as its calls use it: each attempt reserves its fair share of what is
 * left, given the worst-case cost of every agent that has not finished yet (this one included).
 */
export class RunBudget {
  private readonly ledger: CostLedger;
  private readonly unfinished: Set<string>;

  constructor(
    limitUsd: number | undefined,
    private readonly worstCaseUsd: ReadonlyMap<string, number>,
  ) {
    this.ledger = new CostLedger(limitUsd);
    this.unfinished = new Set(worstCaseUsd.keys());
  }

  get spentUsd(): number {
    return this.ledger.spentUsd;
  }

  /** Settlements above their reservation (the budget invariant says none). */
  get overshoots(): number {
    return this.ledger.overshoots.length;
  }

  /** Reserves attempt `attempt` of agent `agentId`; returns the reservation key and its cost cap. */
  reserve(agentId: string, attempt: number): { key: string; capUsd: number } {
    const key = `${agentId}#${attempt}`;
    const pending = [...this.unfinished].map((id) => this.worstCaseUsd.get(id)!);
    const capUsd = this.ledger.reserve(key, fairShare(this.ledger.available(), this.worstCaseUsd.get(agentId)!, pending));
    return { key, capUsd };
  }

  settle(key: string, actualUsd: number): void {
    this.ledger.settle(key, actualUsd);
  }

  /** The agent will make no more calls: its worst case no longer holds budget back from the others. */
  finished(agentId: string): void {
    this.unfinished.delete(agentId);
  }
}
