import type { KubeObject } from '../api/kube-object.js';

/**
 * The objects of one kind, by their sort key (`name` for cluster-scoped kinds,
 * `namespace/name` for namespaced ones), plus the keys kept sorted.
 *
 * Why a sorted key array next to the map: lists must come out in a stable order
 * (pages continue "after key K"), namespace-scoped lists are a contiguous range of
 * `namespace/...` keys, and churn needs to pick a random object by index. Inserting
 * into a sorted array is a binary search plus a `splice` (a memmove of pointers:
 * microseconds even at 150,000 pods), far cheaper than sorting on every list.
 *
 * Objects are stored by reference and never mutated: callers replace them.
 */
export class KindStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly keys: string[] = [];

  /** Number of objects. */
  get size(): number {
    return this.keys.length;
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  /** Inserts or replaces the object under `key`. */
  set(key: string, object: KubeObject): void {
    if (!this.objects.has(key)) {
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    this.objects.set(key, object);
  }

  /**
   * Inserts or replaces many objects at once: one sort instead of one sorted
   * insertion each (what loading a 150,000-pod world needs).
   */
  setMany(entries: Iterable<[string, KubeObject]>): void {
    let added = false;
    for (const [key, object] of entries) {
      if (!this.objects.has(key)) {
        this.keys.push(key);
        added = true;
      }
      this.objects.set(key, object);
    }
    if (added) this.keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Removes `key`; returns the object it held. */
  delete(key: string): KubeObject | undefined {
    const object = this.objects.get(key);
    if (object === undefined) return undefined;
    this.objects.delete(key);
    const index = lowerBound(this.keys, key);
    if (this.keys[index] === key) this.keys.splice(index, 1);
    return object;
  }

  /** The key at sorted position `index` (for picking a random object). */
  keyAt(index: number): string | undefined {
    return this.keys[index];
  }

  /**
   * The objects in key order, optionally only those whose key starts with `prefix`
   * (a namespace: `"default/"`). Returns a new array of the stored references.
   */
  sorted(prefix?: string): KubeObject[] {
    const out: KubeObject[] = [];
    const start = prefix ? lowerBound(this.keys, prefix) : 0;
    for (let i = start; i < this.keys.length; i++) {
      const key = this.keys[i] as string;
      if (prefix && !key.startsWith(prefix)) break;
      out.push(this.objects.get(key) as KubeObject);
    }
    return out;
  }

  /** Every stored object, in no particular order (cheap iteration). */
  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }
}

/** First index in the sorted `keys` whose key is >= `key`. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The sort key of an object: `namespace/name` for namespaced objects, `name` otherwise. */
export function objectKey(object: Pick<KubeObject, 'metadata'>): string {
  const ns = object.metadata.namespace;
  return ns ? `${ns}/${object.metadata.name}` : object.metadata.name;
}
