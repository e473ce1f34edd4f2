import type { KubeObject } from '../api/kube-object.js';

/** Options of {@link ListSnapshots}. */
export interface ListSnapshotsOptions {
  /** How long a paged list's snapshot lives after its last page was served, in ms. Default 60,000. */
  ttlMs?: number;
  /** How many snapshots are kept at most (the least recently used is evicted). Default 256. */
  maxSnapshots?: number;
  /** Milliseconds clock. Default `Date.now`. */
  now?: () => number;
}

/** A paged list in progress: the filtered, sorted objects as of `resourceVersion`. */
export interface ListSnapshot {
  /** The list's identity: see {@link listIdentity}. */
  readonly id: string;
  readonly resourceVersion: string;
  readonly items: readonly KubeObject[];
  expiresAt: number;
}

/**
 * Keeps the result of the first page of a limited list so that every later page is
 * served from the same version, as the API server does (it reads etcd at the first
 * page's revision). A snapshot is just an array of references to immutable stored
 * objects, so keeping one is cheap (8 bytes an object). Snapshots expire after
 * {@link ListSnapshotsOptions.ttlMs} without use and are dropped on compaction; a
 * continue token that points at a missing snapshot answers 410 Expired, exactly what
 * a real server answers once the revision is compacted.
 */
export class ListSnapshots {
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly ttlMs: number;
  private readonly maxSnapshots: number;
  private readonly now: () => number;

  constructor(options: ListSnapshotsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxSnapshots = options.maxSnapshots ?? 256;
    this.now = options.now ?? Date.now;
  }

  /**
   * Keeps `items` (already filtered and sorted) under `id`, the list's identity
   * (which includes its resourceVersion), replacing any snapshot with that id.
   */
  create(id: string, resourceVersion: string, items: readonly KubeObject[]): ListSnapshot {
    this.sweep();
    while (this.snapshots.size >= this.maxSnapshots) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest === undefined) break;
      this.snapshots.delete(oldest);
    }
    const snapshot: ListSnapshot = {
      id,
      resourceVersion,
      items,
      expiresAt: this.now() + this.ttlMs,
    };
    this.snapshots.delete(id);
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  /** The live snapshot `id` (its lifetime renewed), or undefined when expired or evicted. */
  get(id: string): ListSnapshot | undefined {
    const snapshot = this.snapshots.get(id);
    if (snapshot === undefined) return undefined;
    if (snapshot.expiresAt <= this.now()) {
      this.snapshots.delete(id);
      return undefined;
    }
    snapshot.expiresAt = this.now() + this.ttlMs;
    // Re-insert to keep the map in least-recently-used order.
    this.snapshots.delete(id);
    this.snapshots.set(id, snapshot);
    return snapshot;
  }

  /** Forgets snapshot `id` (its last page was served). */
  release(id: string): void {
    this.snapshots.delete(id);
  }

  /** Forgets every snapshot (on compaction). */
  clear(): void {
    this.snapshots.clear();
  }

  get size(): number {
    return this.snapshots.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, snapshot] of this.snapshots) if (snapshot.expiresAt <= now) this.snapshots.delete(id);
  }
}

/**
 * The identity of a paged list: what it lists and at which version. A continue
 * request repeats the list's selectors (clients must, as with a real server), so
 * the continue token itself needs to carry only the version and the last key
 * (`encodeContinue` from the API layer); two clients paging the same list at the
 * same version share one snapshot, which is correct since its content is the same.
 */
export function listIdentity(parts: {
  resource: string;
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion: string;
}): string {
  return JSON.stringify([
    parts.resource,
    parts.namespace ?? '',
    parts.labelSelector ?? '',
    parts.fieldSelector ?? '',
    parts.resourceVersion,
  ]);
}
