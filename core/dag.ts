import type { MasSpec } from './mas';

/** A MAS spec that cannot run. The message names every problem found, one per line. */
export class MasSpecError extends Error {
  override readonly name = 'MasSpecError';
  constructor(readonly problems: string[]) {
    super(`invalid MAS spec: ${problems.join('; ')}`);
  }
}

export interface DagIndex {
  /** Agent ids in a topological order (stable: spec order among ready agents). */
  order: string[];
  preds: Map<string, string[]>;
  succs: Map<string, string[]>;
}

/**
 * Checks a spec against the pool and returns its DAG index, or throws MasSpecError naming each
 * problem (duplicate ids, unknown agents or backbones, self-loops, cycles, decision agent).
 */
export function validateSpec(spec: MasSpec, knownBackbones?: ReadonlySet<string>): DagIndex {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const a of spec.agents) {
    if (ids.has(a.id)) problems.push(`duplicate agent id "${a.id}"`);
    ids.add(a.id);
    if (knownBackbones && !knownBackbones.has(a.backbone)) {
      problems.push(`agent "${a.id}" uses unknown backbone "${a.backbone}"`);
    }
  }
  if (!ids.has(spec.decision)) problems.push(`decision agent "${spec.decision}" is not among the agents`);
  const preds = new Map<string, string[]>([...ids].map((id) => [id, []]));
  const succs = new Map<string, string[]>([...ids].map((id) => [id, []]));
  const seenEdges = new Set<string>();
  for (const [from, to] of spec.edges) {
    if (!ids.has(from)) problems.push(`edge ${from}->${to}: unknown agent "${from}"`);
    if (!ids.has(to)) problems.push(`edge ${from}->${to}: unknown agent "${to}"`);
    if (from === to) problems.push(`edge ${from}->${to}: self-loop`);
    const key = `${from}\u0000${to}`;
    if (seenEdges.has(key)) problems.push(`edge ${from}->${to}: duplicate`);
    seenEdges.add(key);
    if (ids.has(from) && ids.has(to) && from !== to) {
      succs.get(from)!.push(to);
      preds.get(to)!.push(from);
    }
  }
  if (ids.has(spec.decision) && succs.get(spec.decision)!.length > 0) {
    problems.push(`decision agent "${spec.decision}" must not send to other agents`);
  }
  if (problems.length > 0) throw new MasSpecError(problems);

  // Kahn's algorithm; what is left over lies on a cycle.
  const indeg = new Map([...preds].map(([id, p]) => [id, p.length]));
  const order: string[] = [];
  const ready = spec.agents.map((a) => a.id).filter((id) => indeg.get(id) === 0);
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const s of succs.get(id)!) {
      const d = indeg.get(s)! - 1;
      indeg.set(s, d);
      if (d === 0) ready.push(s);
    }
  }
  if (order.length < ids.size) {
    throw new MasSpecError([`cycle among agents ${describeCycle(spec, new Set(order), succs)}`]);
  }
  return { order, preds, succs };
}

function describeCycle(spec: MasSpec, acyclic: Set<string>, succs: Map<string, string[]>): string {
  // Walk successors inside the cyclic remainder until a node repeats.
  let cur = spec.agents.map((a) => a.id).find((id) => !acyclic.has(id))!;
  const path: string[] = [];
  const pos = new Map<string, number>();
  while (!pos.has(cur)) {
    pos.set(cur, path.length);
    path.push(cur);
    cur = succs.get(cur)!.find((s) => !acyclic.has(s))!;
  }
  return [...path.slice(pos.get(cur)), cur].join(' -> ');
}

/**
 * Longest path through the DAG with the given node weights (seconds): the MAS latency L of
 * docs/METHOD.md §0. Nodes absent from `weight` count as 0.
 */
export function criticalPathS(index: DagIndex, weight: ReadonlyMap<string, number>): number {
  const finish = new Map<string, number>();
  let longest = 0;
  for (const id of index.order) {
    const start = Math.max(0, ...index.preds.get(id)!.map((p) => finish.get(p) ?? 0));
    const f = start + (weight.get(id) ?? 0);
    finish.set(id, f);
    longest = Math.max(longest, f);
  }
  return longest;
}
