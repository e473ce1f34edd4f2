import type { KubeObject, StoredKind } from '../api/kube-object.js';
import { ChangeLog, type StoredChange, type ChangeType } from './change-log.js';
import { KindStore, objectKey } from './kind-store.js';
import { ObjectExistsError, ObjectNotFoundError, ResourceVersionConflictError } from './store-errors.js';

/** Options of {@link ClusterStore}. */
export interface ClusterStoreOptions {
  /** How many changes the change log keeps for watch replay and exact lists. Default 100,000. */
  changeLogSize?: number;
  /** Called when a change listener throws (the store carries on). Default: ignore. */
  onListenerError?: (err: unknown) => void;
}

/** Receives every change, synchronously, in resourceVersion order. Must return promptly. */
export type ChangeListener = (event: StoredChange) => void;

const KINDS: readonly StoredKind[] = [
  'Node',
  'Pod',
  'Namespace',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'PodDisruptionBudget',
  'Lease',
  'Event',
];

/**
 * The in-memory "etcd" of one simulated cluster: one resourceVersion counter shared
 * by every kind (decimal strings on the wire, opaque to clients), per-kind object
 * maps, and a bounded change log.
 *
 * Contract:
 * - Stored objects are immutable: every write stores a new object (the store only
 *   stamps `metadata.resourceVersion` on a shallow copy). Lists, snapshots and watch
 *   fan-out share the references safely.
 * - Every write bumps the counter by exactly one and is appended to the log and
 *   handed to the listeners synchronously, in order, before the call returns.
 * - {@link load} puts initial objects in without logging them (they predate the log).
 */
export class ClusterStore {
  private readonly kinds = new Map<StoredKind, KindStore>();
  private readonly log: ChangeLog;
  private readonly listeners = new Set<ChangeListener>();
  private readonly onListenerError: (err: unknown) => void;
  private counter = 1;

  constructor(options: ClusterStoreOptions = {}) {
    for (const kind of KINDS) this.kinds.set(kind, new KindStore());
    this.log = new ChangeLog(options.changeLogSize ?? 100_000, this.counter);
    this.onListenerError = options.onListenerError ?? (() => undefined);
  }

  /** The current resourceVersion (the version of the latest write). */
  get resourceVersion(): number {
    return this.counter;
  }

  /** The oldest version a watch may start from (every change after it is in the log). */
  get oldestWatchableRv(): number {
    return this.log.startRv;
  }

  /** The objects of `kind` (read-only use: never mutate what it returns). */
  kind(kind: StoredKind): KindStore {
    return this.kinds.get(kind) as KindStore;
  }

  get(kind: StoredKind, key: string): KubeObject | undefined {
    return this.kind(kind).get(key);
  }

  /** Puts objects in without logging them, each with its own resourceVersion. */
  load(kind: StoredKind, objects: Iterable<KubeObject>): void {
    const entries: [string, KubeObject][] = [];
    for (const object of objects) {
      const stamped = this.stamp(object, ++this.counter);
      entries.push([objectKey(stamped), stamped]);
    }
    this.kind(kind).setMany(entries);
    this.log.compact(this.counter);
  }

  /** Stores a new object. Throws {@link ObjectExistsError} when its key is taken. */
  create(kind: StoredKind, object: KubeObject): KubeObject {
    const key = objectKey(object);
    const store = this.kind(kind);
    if (store.has(key)) throw new ObjectExistsError(kind, key);
    const stamped = this.stamp(object, ++this.counter);
    store.set(key, stamped);
    this.emit('ADDED', kind, key, stamped, undefined);
    return stamped;
  }

  /**
   * Replaces a stored object. When `expectedRv` is given (a PUT carrying
   * `metadata.resourceVersion`, or a patch that named one) and differs from the
   * stored version, throws {@link ResourceVersionConflictError}.
   */
  update(kind: StoredKind, object: KubeObject, expectedRv?: string): KubeObject {
    const key = objectKey(object);
    const store = this.kind(kind);
    const previous = store.get(key);
    if (previous === undefined) throw new ObjectNotFoundError(kind, key);
    if (expectedRv !== undefined && expectedRv !== '' && expectedRv !== previous.metadata.resourceVersion) {
      throw new ResourceVersionConflictError(kind, key, expectedRv, previous.metadata.resourceVersion);
    }
    const stamped = this.stamp(object, ++this.counter);
    store.set(key, stamped);
    this.emit('MODIFIED', kind, key, stamped, previous);
    return stamped;
  }

  /** Removes an object; returns its last state stamped with the deletion's version. */
  delete(kind: StoredKind, key: string): KubeObject {
    const store = this.kind(kind);
    const previous = store.delete(key);
    if (previous === undefined) throw new ObjectNotFoundError(kind, key);
    const stamped = this.stamp(previous, ++this.counter);
    this.emit('DELETED', kind, key, stamped, previous);
    return stamped;
  }

  /** Registers a change listener; returns its unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The changes after `rv`, oldest first, or undefined when the log no longer covers them. */
  changesSince(rv: number): StoredChange[] | undefined {
    if (!this.log.covers(rv)) return undefined;
    return this.log.since(rv);
  }

  /** Drops the change log (watches and exact lists from older versions get 410). */
  compact(): void {
    this.log.compact(this.counter);
  }

  /**
   * The objects of `kind` (keys starting with `prefix`, when given) as they were at
   * version `rv`, sorted by key; undefined when the log no longer reaches back that
   * far. Rebuilt by undoing the logged changes after `rv`, newest first.
   */
  stateAt(kind: StoredKind, rv: number, prefix?: string): KubeObject[] | undefined {
    const current = this.kind(kind).sorted(prefix);
    if (rv >= this.counter) return current;
    const changes = this.changesSince(rv);
    if (changes === undefined) return undefined;
    const overrides = new Map<string, KubeObject | null>();
    for (let i = changes.length - 1; i >= 0; i--) {
      const change = changes[i] as StoredChange;
      if (change.kind !== kind) continue;
      if (prefix && !change.key.startsWith(prefix)) continue;
      overrides.set(change.key, change.previous ?? null);
    }
    if (overrides.size === 0) return current;
    const out: { key: string; object: KubeObject }[] = [];
    for (const object of current) {
      const key = objectKey(object);
      if (overrides.has(key)) continue;
      out.push({ key, object });
    }
    for (const [key, object] of overrides) if (object) out.push({ key, object });
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out.map((e) => e.object);
  }

  private stamp(object: KubeObject, rv: number): KubeObject {
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
  }

  private emit(
    type: ChangeType,
    kind: StoredKind,
    key: string,
    object: KubeObject,
    previous: KubeObject | undefined,
  ): void {
    const event: StoredChange = { rv: this.counter, type, kind, key, object, previous };
    this.log.append(event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
