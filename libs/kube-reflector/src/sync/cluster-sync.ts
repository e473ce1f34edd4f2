import type { NodeSnapshot, ResyncReason } from '@knm/contracts';
import { ExponentialBackoff, type BackoffPolicy } from '../backoff.js';
import type { ListerWatcher, ObjectEvent } from '../lister-watcher.js';
import { NodeCache, type NodeCacheChange } from '../node-cache.js';
import { PodCountIndex } from '../pod-count-index.js';
import type { PodRecord } from '../pod-record.js';
import type { ReflectorObserver } from '../reflector-observer.js';
import { Reflector, type ReflectorOptions, type ReflectorStore } from '../reflector.js';
import type { ClusterStateWriter, WatcherStatus } from './cluster-state-writer.js';
import { SerialQueue } from './serial-queue.js';

/** The kinds of write the engine makes. */
export type SyncWriteKind = 'rebuild' | 'nodes' | 'pods' | 'status' | 'heartbeat';

/** What {@link ClusterSync} reports on top of its reflectors' events. Optional, cheap, never throwing. */
export interface ClusterSyncObserver extends ReflectorObserver {
  /** A write succeeded: how long it took and, for nodes/pods, how long since the (oldest) event it carries arrived. */
  onWrite?(kind: SyncWriteKind, info: { durationMs: number; lagMs?: number; items: number }): void;
  /** A write failed (not fenced); a rebuild is scheduled. */
  onWriteError?(kind: SyncWriteKind, error: Error): void;
  /** A node update that changed nothing that matters was dropped. */
  onSuppressed?(): void;
  /** The status this engine wants the cluster to show changed. */
  onStatus?(status: WatcherStatus, error?: string): void;
  /** The state was rebuilt in Redis (one swap). */
  onRebuilt?(info: { reason: ResyncReason; nodes: number; pods: number; durationMs: number }): void;
  /**
   * A write was refused by the fence, whatever the term: also one that was in flight
   * when the term ended (a zombie's last write). Counts refused writes.
   */
  onWriteFenced?(kind: SyncWriteKind, error: Error): void;
  /** The writer of the current term was fenced: writing stopped at once (once per term). */
  onFenced?(error: Error): void;
}

/** Options of {@link ClusterSync}. */
export interface ClusterSyncOptions {
  /** Where Nodes come from. */
  nodes: ListerWatcher<NodeSnapshot>;
  /** Where Pods come from. */
  pods: ListerWatcher<PodRecord>;
  /** Options of both reflectors (their `observer` is replaced by this engine's). Default: the reflector's defaults. */
  reflector?: Omit<ReflectorOptions, 'observer'>;
  /** Pod deltas within this window become one write. Default 100 ms. */
  coalesceMs?: number;
  /** Heartbeat period while leading. Default 2,000 ms. */
  heartbeatMs?: number;
  /** Which write errors mean "fenced: another leader took over". Default: none. */
  isFenced?: (error: unknown) => boolean;
  /** Delay before a rebuild retried after a failed write. Default exponential 200 ms .. 10 s. */
  writeBackoff?: BackoffPolicy;
  /** Metrics and logs. */
  observer?: ClusterSyncObserver;
  /** Milliseconds clock. Default `Date.now`. */
  now?: () => number;
}

/**
 * The watcher's engine for one cluster: two reflectors (Nodes, Pods) feed a
 * {@link NodeCache} and a {@link PodCountIndex}, always (a standby keeps them warm so
 * a takeover needs no list); while leading, their changes go to a
 * {@link ClusterStateWriter}:
 *
 * - node changes are written as they come, in order, one awaited write per event
 *   (heartbeat-only updates are dropped and counted);
 * - pod events only touch the index; their per-node deltas are flushed at most
 *   `coalesceMs` after the first one as ONE `applyPodDeltas`;
 * - on becoming leader and after every relist of either resource (once both have
 *   listed), the whole state is written with `rebuild` (one swap + resync), which
 *   also absorbs the pending deltas; a failed write schedules such a rebuild (with
 *   backoff) instead of writing on top of an unknown state;
 * - the status is `syncing` until both lists are applied, `ready` after, `degraded`
 *   (with the error) while a list or watch request fails, and heartbeats run every
 *   `heartbeatMs`;
 * - a fenced write (`isFenced`) stops all writing at once and tells the
 *   `onFenced` listeners; the engine keeps reflecting, as a standby.
 *
 * All writes go through one serial queue, so rebuilds, node changes, pod flushes
 * and status changes reach Redis in the order they were decided.
 */
export class ClusterSync {
  readonly nodeCache = new NodeCache();
  readonly podIndex = new PodCountIndex();
  private readonly nodeReflector: Reflector<NodeSnapshot>;
  private readonly podReflector: Reflector<PodRecord>;
  private readonly queue = new SerialQueue();
  private readonly coalesceMs: number;
  private readonly heartbeatMs: number;
  private readonly isFenced: (error: unknown) => boolean;
  private readonly writeBackoff: BackoffPolicy;
  private readonly observer: ClusterSyncObserver;
  private readonly now: () => number;
  private readonly fencedListeners: ((error: Error) => void)[] = [];
  private readonly unhealthy = new Map<string, Error>();
  private writer: ClusterStateWriter | undefined;
  /** Incremented on every lead/standBy, so tasks of an old term write nothing. */
  private term = 0;
  private rebuilt = false;
  private needsRebuild = false;
  private writtenStatus: string | undefined;
  private wantedStatus: { status: WatcherStatus; error?: string } = { status: 'syncing' };
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private firstPendingPodAt: number | undefined;
  private started = false;
  /** Set when a list has been applied to the cache (the reflector's own flag flips only after replace returns). */
  private nodesListed = false;
  private podsListed = false;
  private stopped = false;

  constructor(options: ClusterSyncOptions) {
    this.coalesceMs = options.coalesceMs ?? 100;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.isFenced = options.isFenced ?? (() => false);
    this.writeBackoff = options.writeBackoff ?? new ExponentialBackoff({ initialMs: 200, maxMs: 10_000 });
    this.observer = options.observer ?? {};
    this.now = options.now ?? Date.now;
    const reflectorObserver = this.reflectorObserver();
    this.nodeReflector = new Reflector(options.nodes, this.nodeStore(), {
      ...options.reflector,
      observer: reflectorObserver,
    });
    this.podReflector = new Reflector(options.pods, this.podStore(), {
      ...options.reflector,
      observer: reflectorObserver,
    });
  }

  /** True once both Nodes and Pods have been listed and applied (stays true). */
  get synced(): boolean {
    return this.nodesListed && this.podsListed;
  }

  /** True while a writer is set (leading) and not fenced. */
  get leading(): boolean {
    return this.writer !== undefined;
  }

  /** True when leading and the full state has been written since (the cluster is served exactly). */
  get serving(): boolean {
    return this.writer !== undefined && this.rebuilt && !this.needsRebuild;
  }

  /** The status the engine wants the cluster to show now. */
  get status(): { status: WatcherStatus; error?: string } {
    return { ...this.wantedStatus };
  }

  /** The node and pod reflectors, for inspection (read-only use). */
  get reflectors(): { nodes: Reflector<NodeSnapshot>; pods: Reflector<PodRecord> } {
    return { nodes: this.nodeReflector, pods: this.podReflector };
  }

  /** Registers a listener for "the writer was fenced" (called once per fenced term). */
  onFenced(listener: (error: Error) => void): void {
    this.fencedListeners.push(listener);
  }

  /** Starts reflecting (list + watch of Nodes and Pods). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.nodeReflector.start();
    this.podReflector.start();
  }

  /** Resolves once both resources are listed and applied. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([this.nodeReflector.waitForSync(signal), this.podReflector.waitForSync(signal)]);
  }

  /**
   * Starts writing through `writer` (this replica just became leader): writes the
   * current status, and the full state as soon as both resources are listed (at
   * once if they are). Returns without waiting for those writes.
   */
  lead(writer: ClusterStateWriter): void {
    if (this.stopped) return;
    this.term += 1;
    this.writer = writer;
    this.rebuilt = false;
    this.needsRebuild = false;
    this.writtenStatus = undefined;
    this.writeBackoff.reset();
    const term = this.term;
    void this.queue.run(async () => {
      if (term !== this.term) return;
      if (this.synced) await this.rebuild('leader_change', term);
      else await this.syncStatus(term);
    });
    this.heartbeatTimer = setInterval(() => void this.heartbeat(term), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  /**
   * Stops writing (lease lost, or shutting down): no write starts after this call;
   * resolves once a write in flight has finished. Reflecting goes on.
   */
  async standBy(): Promise<void> {
    this.dropWriter();
    await this.queue.idle();
  }

  /**
   * Shuts down: stops both reflectors (an event being applied finishes), writes the
   * pending pod deltas if leading, and resolves when every write has finished. The
   * writer stays set (release the lease after this resolves).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.nodeReflector.stop(), this.podReflector.stop()]);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const term = this.term;
    await this.queue.run(() => this.flushPods(term)).catch(() => undefined);
    await this.queue.idle();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private dropWriter(): void {
    this.term += 1;
    this.writer = undefined;
    this.rebuilt = false;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private nodeStore(): ReflectorStore<NodeSnapshot> {
    return {
      apply: (event: ObjectEvent<NodeSnapshot>) => {
        const receivedAt = this.now();
        return this.queue.run(async () => {
          const changes = this.nodeCache.apply(event);
          if (changes.length === 0) {
            if (event.type === 'MODIFIED') this.notify((o) => o.onSuppressed?.());
            return;
          }
          await this.writeNodeChanges(changes, receivedAt, this.term);
        });
      },
      replace: (items: NodeSnapshot[]) =>
        this.queue.run(async () => {
          this.nodeCache.replace(items);
          this.nodesListed = true;
          await this.afterList();
        }),
    };
  }

  private podStore(): ReflectorStore<PodRecord> {
    return {
      apply: (event: ObjectEvent<PodRecord>) => {
        this.podIndex.apply(event.type, event.object);
        if (this.podIndex.hasPendingDeltas) this.scheduleFlush();
        return Promise.resolve();
      },
      replace: (items: PodRecord[]) =>
        this.queue.run(async () => {
          this.podIndex.replace(items);
          this.podsListed = true;
          await this.afterList();
        }),
    };
  }

  /** Runs on the queue after a (re)list was applied to a cache. */
  private async afterList(): Promise<void> {
    const term = this.term;
    this.updateWantedStatus();
    if (!this.writer || !this.synced) {
      await this.syncStatus(term);
      return;
    }
    // The first rebuild of a term is the leader's; later ones follow a relist.
    await this.rebuild(this.rebuilt ? 'relist' : 'leader_change', term);
  }

  private scheduleFlush(): void {
    this.firstPendingPodAt ??= this.now();
    if (this.flushTimer || !this.writer) return;
    const term = this.term;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.queue.run(() => this.flushPods(term));
    }, this.coalesceMs);
  }

  private async flushPods(term: number): Promise<void> {
    const writer = this.writer;
    if (term !== this.term || !writer || !this.rebuilt || this.needsRebuild) return;
    const since = this.firstPendingPodAt;
    const deltas = this.podIndex.takeDeltas();
    this.firstPendingPodAt = undefined;
    const nodes = Object.keys(deltas).length;
    if (nodes === 0) return;
    await this.write('pods', term, nodes, since, () => writer.applyPodDeltas(deltas));
  }

  private async writeNodeChanges(
    changes: NodeCacheChange[],
    receivedAt: number,
    term: number,
  ): Promise<void> {
    const writer = this.writer;
    if (term !== this.term || !writer || !this.rebuilt || this.needsRebuild) return;
    await this.write('nodes', term, changes.length, receivedAt, () => writer.applyNodeChanges(changes));
  }

  /** Writes the whole state in one swap (runs on the queue). */
  private async rebuild(reason: ResyncReason, term: number): Promise<void> {
    const writer = this.writer;
    if (term !== this.term || !writer || !this.synced) return;
    const nodes = this.nodeCache.list();
    const podCounts = this.podIndex.counts();
    this.podIndex.takeDeltas();
    this.firstPendingPodAt = undefined;
    const started = this.now();
    const ok = await this.write('rebuild', term, nodes.length, undefined, () =>
      writer.rebuild({ nodes, podCounts, reason }),
    );
    if (!ok || term !== this.term) return;
    this.rebuilt = true;
    this.needsRebuild = false;
    this.writeBackoff.reset();
    this.writtenStatus = 'ready\u0000';
    this.notify((o) =>
      o.onRebuilt?.({
        reason,
        nodes: nodes.length,
        pods: this.podIndex.size,
        durationMs: this.now() - started,
      }),
    );
    await this.syncStatus(term);
  }

  /** Writes the wanted status if it differs from the last one written (runs on the queue). */
  private async syncStatus(term: number): Promise<void> {
    const writer = this.writer;
    if (term !== this.term || !writer) return;
    const { status, error } = this.wantedStatus;
    // Never claim `ready` before the state has been written.
    const effective: WatcherStatus = status === 'ready' && !this.rebuilt ? 'syncing' : status;
    const key = `${effective}\u0000${error ?? ''}`;
    if (key === this.writtenStatus) return;
    const ok = await this.write('status', term, 1, undefined, () => writer.setStatus(effective, error));
    if (ok) this.writtenStatus = key;
  }

  private updateWantedStatus(): void {
    let wanted: { status: WatcherStatus; error?: string };
    const failure = [...this.unhealthy.entries()][0];
    if (failure) wanted = { status: 'degraded', error: `${failure[0]}: ${failure[1].message}` };
    else if (!this.synced) wanted = { status: 'syncing' };
    else wanted = { status: 'ready' };
    if (wanted.status === this.wantedStatus.status && wanted.error === this.wantedStatus.error) return;
    this.wantedStatus = wanted;
    this.notify((o) => o.onStatus?.(wanted.status, wanted.error));
    const term = this.term;
    if (this.writer) void this.queue.run(() => this.syncStatus(term));
  }

  private async heartbeat(term: number): Promise<void> {
    const writer = this.writer;
    if (term !== this.term || !writer) return;
    await this.write('heartbeat', term, 1, undefined, () => writer.heartbeat(), false);
  }

  /**
   * Runs one write. Fenced -> stop writing now and tell the listeners. Other failure
   * -> schedule a rebuild (unless `rebuildOnFailure` is false). Never throws.
   */
  private async write(
    kind: SyncWriteKind,
    term: number,
    items: number,
    since: number | undefined,
    fn: () => Promise<unknown>,
    rebuildOnFailure = true,
  ): Promise<boolean> {
    const started = this.now();
    try {
      await fn();
      const done = this.now();
      const info: { durationMs: number; lagMs?: number; items: number } = {
        durationMs: done - started,
        items,
      };
      if (since !== undefined) info.lagMs = done - since;
      this.notify((o) => o.onWrite?.(kind, info));
      return true;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.isFenced(err)) {
        this.notify((o) => o.onWriteFenced?.(kind, error));
        if (term === this.term && this.writer) {
          this.dropWriter();
          this.notify((o) => o.onFenced?.(error));
          for (const l of this.fencedListeners) {
            try {
              l(error);
            } catch {
              // A listener must not break the engine.
            }
          }
        }
        return false;
      }
      this.notify((o) => o.onWriteError?.(kind, error));
      if (rebuildOnFailure && term === this.term) this.scheduleRebuild(term);
      return false;
    }
  }

  private scheduleRebuild(term: number): void {
    this.needsRebuild = true;
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.queue.run(() => this.rebuild('rebuild', term));
    }, this.writeBackoff.next());
  }

  private reflectorObserver(): ReflectorObserver {
    const forward = this.observer;
    return {
      onEvent: (r, t) => forward.onEvent?.(r, t),
      onListed: (r, info) => forward.onListed?.(r, info),
      onExpired: (r) => forward.onExpired?.(r),
      onWatchStarted: (r, rv) => forward.onWatchStarted?.(r, rv),
      onWatchEnded: (r, info) => forward.onWatchEnded?.(r, info),
      onError: (r, e, ms) => forward.onError?.(r, e, ms),
      onHealth: (resource, healthy, error) => {
        if (healthy) this.unhealthy.delete(resource);
        else this.unhealthy.set(resource, error ?? new Error('unreachable'));
        forward.onHealth?.(resource, healthy, error);
        this.updateWantedStatus();
      },
    };
  }

  private notify(call: (observer: ClusterSyncObserver) => void): void {
    try {
      call(this.observer);
    } catch {
      // An observer must not break the engine.
    }
  }
}
