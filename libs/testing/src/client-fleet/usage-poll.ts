/** A node's requests and limits as a fleet client reads them (an `allocation` envelope's value). */
export interface AllocationLike {
  requests?: Readonly<Record<string, unknown>>;
  limits?: Readonly<Record<string, unknown>>;
}

/** A usage snapshot as a fleet client reads it (a `usage` envelope's data). */
export interface UsageLike {
  available?: unknown;
  polledAt?: unknown;
  timestamp?: unknown;
  window?: unknown;
  reason?: unknown;
  nodes?: Readonly<Record<string, { cpu?: unknown; memory?: unknown }>>;
}

/**
 * One poll of the metrics API as the clients of a fleet process share it: its
 * status (availability, times, reason) as one string and each node's usage as
 * `cpu\tmemory`. Clients hold a reference to a shared poll instead of a copy.
 */
export interface UsagePoll {
  readonly status: string;
  readonly nodes: ReadonlyMap<string, string>;
}

/** The status part of a usage snapshot, in a fixed field order (equal snapshots, equal strings). */
export function usageStatusKey(usage: UsageLike): string {
  return JSON.stringify([usage.available, usage.polledAt, usage.timestamp, usage.window, usage.reason]);
}

/** A poll from a usage snapshot (`nodes` ignored when it is not available). */
export function usagePoll(usage: UsageLike): UsagePoll {
  const nodes = new Map<string, string>();
  if (usage.available === true) {
    for (const [name, u] of Object.entries(usage.nodes ?? {}))
      nodes.set(name, `${String(u.cpu)}\t${String(u.memory)}`);
  }
  return { status: usageStatusKey(usage), nodes };
}

/**
 * A 53-bit hash of an allocation's non-zero requests and limits in name order (0 =
 * none), the same whether it came from an envelope or was taken back from a REST
 * node's `resources`: a fleet client keeps 8 bytes a node for it (cyrb53).
 */
export function allocationHash(allocation: AllocationLike | undefined): number {
  if (allocation === undefined) return 0;
  // Clients of one process share decoded envelopes (shared-decoder.ts): hash each object once.
  let hash = hashes.get(allocation);
  if (hash === undefined) hashes.set(allocation, (hash = computeAllocationHash(allocation)));
  return hash;
}

const hashes = new WeakMap<AllocationLike, number>();

function computeAllocationHash(allocation: AllocationLike): number {
  const parts: string[] = [];
  for (const [tag, amounts] of [
    ['r', allocation?.requests],
    ['l', allocation?.limits],
  ] as const) {
    for (const name of Object.keys(amounts ?? {}).sort()) {
      const amount = amounts?.[name];
      if (typeof amount === 'number' && amount !== 0) parts.push(`${tag}:${name}=${amount}`);
    }
  }
  return parts.length === 0 ? 0 : cyrb53(parts.join(';'));
}

function cyrb53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // Never 0, which means "no allocation".
  return 4294967296 * (2097151 & h2) + (h1 >>> 0) || 1;
}

/** A REST node as a fleet snapshot reads it: its name and its resources' figures. */
interface RestNodeLike {
  name: string;
  resources: Readonly<Record<string, { requests: number; limits: number; usage?: number }>>;
}

/** The allocation behind a REST node's `resources` (every non-zero request and limit but the pod count). */
export function allocationOfResources(node: RestNodeLike): AllocationLike {
  const requests: Record<string, number> = {};
  const limits: Record<string, number> = {};
  for (const [name, figures] of Object.entries(node.resources)) {
    if (name === 'pods') continue;
    requests[name] = figures.requests;
    limits[name] = figures.limits;
  }
  return { requests, limits };
}

/** The usage poll behind a REST node list: its `usage` status and each listed node's cpu and memory usage. */
export function usagePollOfList(status: UsageLike, nodes: readonly RestNodeLike[]): UsagePoll {
  const usage: Record<string, { cpu?: unknown; memory?: unknown }> = {};
  for (const node of nodes) {
    const cpu = node.resources['cpu']?.usage;
    const memory = node.resources['memory']?.usage;
    if (cpu !== undefined && memory !== undefined) usage[node.name] = { cpu, memory };
  }
  return usagePoll({ ...status, nodes: usage });
}

/**
 * The usage polls a fleet process's clients share: each client that applies a
 * `usage` envelope gets the one poll object of that status (the newest few are
 * kept for lookup; clients still holding an older one keep it alive themselves).
 */
export class SharedUsagePolls {
  private readonly polls = new Map<string, UsagePoll>();

  constructor(private readonly keep = 8) {}

  /** The shared poll of `usage`'s status, made from `make` the first time it is seen. */
  get(usage: UsageLike, make: () => UsagePoll = () => usagePoll(usage)): UsagePoll {
    const key = usageStatusKey(usage);
    let poll = this.polls.get(key);
    if (!poll) {
      poll = make();
      this.polls.set(key, poll);
      if (this.polls.size > this.keep) this.polls.delete(this.polls.keys().next().value as string);
    }
    return poll;
  }
}
