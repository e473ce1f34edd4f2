import type { KubeObject, StoredKind } from '../api/kube-object.js';

/** A watch event type as the Kubernetes API names it. */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * One stored change: the object after it (for DELETED, the last state stamped with
 * the deletion's resourceVersion, as the API server sends it) and the object before
 * it (undefined for ADDED). Keeping both lets a watch with a selector turn a
 * MODIFIED into DELETED (stopped matching) or ADDED (started matching), and lets a
 * list at an older resourceVersion be rebuilt by undoing changes.
 *
 * `encoded` caches serialised watch frames by a format key so every watcher of the
 * same format shares one Buffer during the live fan-out (cleared afterwards).
 */
export interface StoredChange {
  readonly rv: number;
  readonly type: ChangeType;
  readonly kind: StoredKind;
  readonly key: string;
  readonly object: KubeObject;
  readonly previous: KubeObject | undefined;
  encoded?: Map<string, Buffer>;
}

/**
 * A bounded ring of the most recent changes, in resourceVersion order. When full,
 * the oldest entry is dropped and {@link ChangeLog.startRv} moves forward: a watch
 * from a version older than that can no longer be served exactly (410 Expired), as
 * with etcd compaction.
 */
export class ChangeLog {
  private readonly ring: (StoredChange | undefined)[];
  private head = 0; // index of the oldest entry
  private count = 0;
  private start: number;

  /**
   * @param capacity how many changes are kept.
   * @param startRv the version the log starts after: changes after it are all kept.
   */
  constructor(
    readonly capacity: number,
    startRv: number,
  ) {
    if (capacity < 1) throw new RangeError('change log capacity must be at least 1');
    this.ring = new Array<StoredChange | undefined>(capacity);
    this.start = startRv;
  }

  /** Every change with rv > startRv is in the log; older ones are gone. */
  get startRv(): number {
    return this.start;
  }

  get length(): number {
    return this.count;
  }

  append(event: StoredChange): void {
    if (this.count === this.capacity) {
      const dropped = this.ring[this.head] as StoredChange;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.start = dropped.rv;
    }
    this.ring[(this.head + this.count) % this.capacity] = event;
    this.count++;
  }

  /** Drops everything: only changes after `rv` (the current version) will be kept. */
  compact(rv: number): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.start = rv;
  }

  /** True when every change after `rv` is still in the log. */
  covers(rv: number): boolean {
    return rv >= this.start;
  }

  /** The changes with rv > `afterRv`, oldest first. The caller checks {@link covers} first. */
  since(afterRv: number): StoredChange[] {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv <= afterRv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoredChange[] = [];
    for (let i = lo; i < this.count; i++) out.push(this.at(i));
    return out;
  }

  private at(i: number): StoredChange {
    return this.ring[(this.head + i) % this.capacity] as StoredChange;
  }
}
