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

/** A paged list in progress: the objects (sorted by key, unfiltered) as of `resourceVersion`. */
export interface ListSnapshot {
  /** The list's identity: see {@link listIdentity}. */
  readonly id: string;
  readonly resourceVersion: string;
  readonly items: readonly KubeObject[];
  expiresAt: number;
}

/**
 * A cache of the states paged lists are read at, so that every later page is served
 * from the first page's version without rebuilding it (the API server reads etcd at
 * that revision). A snapshot is just an array of references to immutable stored
 * objects, so keeping one is cheap (8 bytes an object). Snapshots expire after
 * {@link ListSnapshotsOptions.ttlMs} without use and are dropped on compaction; a
 * page whose snapshot is gone is rebuilt from the change log (the token's validity
 * is the log's reach, as a real token's is etcd's compaction), see `listPage`.
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
   * Keeps `items` (sorted by key) under `id`, the list's identity
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
 * The identity of a paged list's snapshot: which objects (resource, namespace) at
 * which version. Selectors are not part of it: a snapshot holds the whole sorted
 * state and each page applies the request's selectors, so two lists of the same
 * objects at the same version share one snapshot whatever they select.
 */
export function listIdentity(parts: {
  resource: string;
  namespace?: string | undefined;
  resourceVersion: string;
}): string {
  return JSON.stringify([parts.resource, parts.namespace ?? '', parts.resourceVersion]);
}
