import type { PodResourceTotals } from '@knm/contracts';

/** The profile of a pod that requests and limits nothing: never stored, never counted. */
export const EMPTY_PROFILE = 0;

/**
 * Distinct (requests, limits) pairs of pods, interned: the pods of one workload share
 * one, so a pod costs a small id instead of its own records. Each profile is a
 * packed array of `[resource id, request, limit]` triples (a plain array of numbers:
 * smaller than a typed array at this size) (resource names interned
 * too, never freed: a cluster has few); profiles are reference-counted and their ids
 * recycled once no pod uses them. Id {@link EMPTY_PROFILE} is the empty profile.
 */
export class ResourceProfiles {
  private readonly resourceIds = new Map<string, number>();
  private readonly resourceNames: string[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [''];
  private readonly amounts: (readonly number[] | undefined)[] = [[]];
  private readonly refs: number[] = [0];
  private readonly free: number[] = [];
  /** Keys of frozen totals, which the pods of one workload share (`podScan`): one key per workload, not per pod. */
  private readonly frozenKeys = new WeakMap<PodResourceTotals, string>();

  /** Number of resource names seen. */
  get resourceCount(): number {
    return this.resourceNames.length;
  }

  /** Number of profiles in use (the empty one not counted). */
  get size(): number {
    return this.byKey.size;
  }

  /** The name of resource id `id`. */
  resourceName(id: number): string {
    return this.resourceNames[id] as string;
  }

  /** The `[resource id, request, limit]` triples of profile `id`. */
  amountsOf(id: number): readonly number[] {
    return this.amounts[id] as readonly number[];
  }

  /** The profile of `totals`, with one more reference (the empty one for none). */
  acquire(totals: PodResourceTotals | undefined): number {
    if (!totals) return EMPTY_PROFILE;
    const key = this.keyOf(totals);
    if (key === '|') return EMPTY_PROFILE;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.free.pop() ?? this.keys.length;
      this.byKey.set(key, id);
      this.keys[id] = key;
      this.amounts[id] = this.triples(totals);
      this.refs[id] = 0;
    }
    this.refs[id] = (this.refs[id] as number) + 1;
    return id;
  }

  /** Drops one reference to profile `id`; the last one frees it. */
  release(id: number): void {
    if (id === EMPTY_PROFILE) return;
    const left = (this.refs[id] as number) - 1;
    this.refs[id] = left;
    if (left > 0) return;
    this.byKey.delete(this.keys[id] as string);
    this.keys[id] = undefined;
    this.amounts[id] = undefined;
    this.free.push(id);
  }

  /** True when `totals` is exactly profile `id` (an update that changed no resource keeps it). */
  matches(id: number, totals: PodResourceTotals | undefined): boolean {
    if (!totals) return id === EMPTY_PROFILE;
    const key = this.keyOf(totals);
    return key === '|' ? id === EMPTY_PROFILE : this.keys[id] === key;
  }

  /** Approximate bytes held: ~ (250 + key + 8 per number) per profile, ~ (80 + name) per resource name. */
  get byteSize(): number {
    let bytes = 0;
    for (const [key, id] of this.byKey) bytes += 250 + key.length + 8 * (this.amounts[id]?.length ?? 0);
    for (const name of this.resourceNames) bytes += 80 + name.length;
    return bytes;
  }

  /** {@link profileKey}, computed once per frozen totals object (a mutable one could change under its key). */
  private keyOf(totals: PodResourceTotals): string {
    if (!Object.isFrozen(totals)) return profileKey(totals);
    let key = this.frozenKeys.get(totals);
    if (key === undefined) {
      key = profileKey(totals);
      this.frozenKeys.set(totals, key);
    }
    return key;
  }

  private resourceId(name: string): number {
    let id = this.resourceIds.get(name);
    if (id === undefined) {
      id = this.resourceNames.length;
      this.resourceIds.set(name, id);
      this.resourceNames.push(name);
    }
    return id;
  }

  private triples(totals: PodResourceTotals): number[] {
    const names = new Set([...Object.keys(totals.requests), ...Object.keys(totals.limits)]);
    const out: number[] = [];
    for (const name of names)
      out.push(this.resourceId(name), totals.requests[name] ?? 0, totals.limits[name] ?? 0);
    return out;
  }
}

/** One string per distinct profile: `name=amount,...|name=amount,...`, names sorted, zeros left out. */
function profileKey(totals: PodResourceTotals): string {
  return [amountsKey(totals.requests), amountsKey(totals.limits)].join('|');
}

function amountsKey(amounts: Readonly<Record<string, number>>): string {
  const parts: string[] = [];
  for (const name of Object.keys(amounts).sort()) {
    const amount = amounts[name] as number;
    if (amount !== 0) parts.push(`${name}=${amount}`);
  }
  // join() builds one flat string: a key kept in the map costs its characters, not a rope of pieces.
  return parts.join(',');
}
