import type { NodeSnapshot } from '@knm/contracts';
import { ExponentialBackoff, type BackoffPolicy } from '../backoff.js';
import type { ListerWatcher, ObjectEvent } from '../lister-watcher.js';
import { NodeCache, type NodeCacheChange } from '../node-cache.js';
import { PodCountIndex } from '../pod-count-index.js';
import type { PodRecord } from '../pod-record.js';
import type { ReflectorObserver } from '../reflector-observer.js';
import { Reflector, type ReflectorOptions, type ReflectorStore } from '../reflector.js';
import type {
  ClusterStateWriter,
  StagedNodes,
  StoredClusterState,
  WatcherStatus,
} from './cluster-state-writer.js';
import { PodDeltaCoalescer } from './pod-delta-coalescer.js';
import { SerialQueue } from './serial-queue.js';
import { diffAllocation, diffNodes, diffPodCounts } from './state-diff.js';
import { StatusTracker } from './status-tracker.js';
import { TermGate, type SyncState } from './term-gate.js';

/**
 * The kinds of Redis call the engine makes: writes, `stage` (a rebuild's nodes staged
 * while the pods are still listing, invisible until the rebuild) and `read` (a
 * reconcile reading what Redis holds).
 */
export type SyncWriteKind =
  'rebuild' | 'stage' | 'nodes' | 'pods' | 'status' | 'heartbeat' | 'synced' | 'read';

/**
 * Why the differences between the caches and Redis were written: `lead` (a new term
 * diffed its caches against Redis), `relist` (a relist's changes), `repair` (after a
 * failed write, the caches were diffed against Redis again).
 */
export type ReconcileReason = 'lead' | 'relist' | 'repair';

/** What {@link ClusterSync} reports on top of its reflectors' events. Optional, cheap, never throwing. */
export interface ClusterSyncObserver extends ReflectorObserver {
  /** A Redis call succeeded: how long it took and, for nodes/pods, how long since the (oldest) event it carries arrived. */
  onWrite?(kind: SyncWriteKind, info: { durationMs: number; lagMs?: number; items: number }): void;
  /** A Redis call failed (not fenced); a repair (reconcile) is scheduled unless it was a heartbeat. */
  onWriteError?(kind: SyncWriteKind, error: Error): void;
  /** A node update that changed nothing that matters was dropped. */
  onSuppressed?(): void;
  /** The status this engine wants the cluster to show changed. */
  onStatus?(status: WatcherStatus, error?: string): void;
  /** The engine moved from `previous` to `state` (see {@link SyncState}). */
  onState?(state: SyncState, previous: SyncState): void;
  /**
   * The differences between the caches and Redis were written as ordinary envelopes:
   * `nodeChanges` node envelopes, pod deltas for `podDeltas` nodes and the allocation
   * of `allocations` nodes (all may be 0).
   */
  onReconciled?(info: {
    reason: ReconcileReason;
    nodeChanges: number;
    podDeltas: number;
    allocations: number;
    durationMs: number;
  }): void;
  /**
   * Redis held no state of this life (no `syncedAt`), so the state was rebuilt in one
   * swap with a `resync` envelope: every client reloads. The one case left for it.
   */
  onRebuilt?(info: { nodes: number; pods: number; durationMs: number }): void;
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
  /** Delay before a repair (reconcile) after a failed write. Default exponential 200 ms .. 10 s. */
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
 * {@link ClusterStateWriter}, and clients never have to reload for a relist or a
 * leader change:
 *
 * - node changes are written as they come, in order, one awaited write per event
 *   (heartbeat-only updates are dropped and counted);
 * - pod events only touch the index; their per-node count deltas and the new
 *   allocation of the nodes they touched are flushed at most `coalesceMs` after the
 *   first one as ONE `applyPodDeltas`;
 * - a relist is written as what it changed: the node cache's adds, updates and
 *   deletes, and the pod index's net per-node deltas and changed allocations, then
 *   `markSynced`;
 * - a new term (once both resources are listed) and a failed write (with backoff)
 *   reconcile: read what Redis holds, write only the differences as ordinary
 *   envelopes (the seq continues);
 * - only when Redis holds no state of this life (no `syncedAt`: never rebuilt, or
 *   its data was lost) is the whole state written with `rebuild` (one swap + resync);
 *   a term whose nodes are listed before its pods reads Redis then, and when it will
 *   rebuild, stages the nodes at once (invisible to readers): the rebuild then writes
 *   the pod counts, the allocation and the nodes changed since, and swaps;
 * - the status is `syncing` until both lists are applied, `ready` after, `degraded`
 *   (with the error) while a list or watch request fails, and heartbeats run every
 *   `heartbeatMs`;
 * - a fenced write (`isFenced`) stops all writing at once and tells the
 *   `onFenced` listeners; the engine keeps reflecting, as a standby.
 *
 * Writes that carry state go through one serial queue, so reconciles, node changes,
 * pod flushes and status changes reach Redis in the order they were decided.
 * Heartbeats do not: they touch only meta (heartbeatAt, leader, epoch) and must not wait
 * behind a long reconcile (readers would report the cluster stale meanwhile).
 */
export class ClusterSync {
  readonly nodeCache = new NodeCache();
  readonly podIndex = new PodCountIndex();
  private readonly nodeReflector: Reflector<NodeSnapshot>;
  private readonly podReflector: Reflector<PodRecord>;
  private readonly queue = new SerialQueue();
  private readonly gate: TermGate<ClusterStateWriter>;
  private readonly coalescer: PodDeltaCoalescer;
  private readonly statusTracker: StatusTracker;
  private readonly heartbeatMs: number;
  private readonly isFenced: (error: unknown) => boolean;
  private readonly writeBackoff: BackoffPolicy;
  private readonly observer: ClusterSyncObserver;
  private readonly now: () => number;
  private readonly fencedListeners: ((error: Error) => void)[] = [];
  private repairTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private started = false;
  /** Set when a list has been applied to the cache (the reflector's own flag flips only after replace returns). */
  private nodesListed = false;
  private podsListed = false;
  /** When the last (re)list of either resource completed: what `syncedAt` records. */
  private listedAt: Date | undefined;
  /** The `listedAt` the current term last recorded (a new term records it again). */
  private syncedWritten: Date | undefined;
  /** The current term has written the whole state once: `ready` stays claimed while it repairs. */
  private servedThisTerm = false;
  /**
   * What a term read of Redis while its pods were still listing (and the nodes it
   * staged when that state calls for a rebuild): the term's first reconcile uses it
   * instead of reading again. Only this term writes meanwhile, and only its status.
   */
  private readAhead: { term: number; state: StoredClusterState; staged?: StagedNodes } | undefined;
  private stopped = false;

  constructor(options: ClusterSyncOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.isFenced = options.isFenced ?? (() => false);
    this.writeBackoff = options.writeBackoff ?? new ExponentialBackoff({ initialMs: 200, maxMs: 10_000 });
    this.observer = options.observer ?? {};
    this.now = options.now ?? Date.now;
    this.gate = new TermGate((state, previous) => this.notify((o) => o.onState?.(state, previous)));
    this.coalescer = new PodDeltaCoalescer(this.podIndex, options.coalesceMs ?? 100, this.now, () => {
      const term = this.gate.term;
      void this.queue.run(() => this.flushPods(term));
    });
    this.statusTracker = new StatusTracker(() => this.synced);
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
    return this.gate.open;
  }

  /** Where the engine stands with Redis (see {@link SyncState}). */
  get state(): SyncState {
    return this.gate.state;
  }

  /** True when leading and Redis equals the caches as of the last write (the cluster is served exactly). */
  get serving(): boolean {
    return this.gate.state === 'serving';
  }

  /** The status the engine wants the cluster to show now. */
  get status(): { status: WatcherStatus; error?: string } {
    return this.statusTracker.wanted;
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
   * current status, and reconciles as soon as both resources are listed (at once if
   * they are). Returns without waiting for those writes.
   */
  lead(writer: ClusterStateWriter): void {
    if (this.stopped) return;
    this.clearTermTimers();
    const term = this.gate.begin(writer);
    this.statusTracker.forgetWritten();
    this.syncedWritten = undefined;
    this.servedThisTerm = false;
    this.readAhead = undefined;
    this.writeBackoff.reset();
    void this.queue.run(async () => {
      if (this.synced && this.gate.state === 'reconciling') await this.reconcile('lead', term);
      else await this.syncStatus(term);
      if (this.nodesListed && !this.podsListed) await this.stageAhead(term);
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
   * pending pod deltas if serving, and resolves when every write has finished. The
   * writer stays set (release the lease after this resolves).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.nodeReflector.stop(), this.podReflector.stop()]);
    this.coalescer.cancel();
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
    const term = this.gate.term;
    await this.queue.run(() => this.flushPods(term)).catch(() => undefined);
    await this.queue.idle();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private dropWriter(): void {
    this.gate.end();
    // A standby writes no deltas; the next leader reconciles absolute counts.
    this.coalescer.discard();
    this.clearTermTimers();
  }

  private clearTermTimers(): void {
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = undefined;
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
          const term = this.gate.term;
          // Not serving: a reconcile to come diffs the cache, this change included.
          if (!this.gate.serving(term)) return;
          await this.write('nodes', term, changes.length, receivedAt, (w) => w.applyNodeChanges(changes));
        });
      },
      replace: (items: NodeSnapshot[]) =>
        this.queue.run(async () => {
          const changes = this.nodeCache.replace(items);
          this.nodesListed = true;
          await this.afterList(changes);
        }),
    };
  }

  private podStore(): ReflectorStore<PodRecord> {
    return {
      apply: (event: ObjectEvent<PodRecord>) => {
        this.podIndex.apply(event.type, event.object);
        if (this.gate.open) this.coalescer.arm();
        else this.coalescer.discard();
        return Promise.resolve();
      },
      replace: (items: PodRecord[]) =>
        this.queue.run(async () => {
          this.podIndex.replace(items);
          if (!this.gate.open) this.coalescer.discard();
          this.podsListed = true;
          await this.afterList([]);
        }),
    };
  }

  /** Runs on the queue after a (re)list was applied to a cache; `nodeChanges` are what it changed. */
  private async afterList(nodeChanges: NodeCacheChange[]): Promise<void> {
    this.listedAt = new Date(this.now());
    const term = this.gate.term;
    this.refreshStatus();
    switch (this.gate.state) {
      case 'standby':
      case 'repairing':
        // Standby: nothing to write. Repairing: the scheduled reconcile covers this list.
        return;
      case 'reconciling':
        if (this.synced) {
          await this.reconcile('lead', term);
          return;
        }
        await this.syncStatus(term);
        if (this.nodesListed) await this.stageAhead(term);
        return;
      case 'serving':
        await this.writeRelist(nodeChanges, term);
    }
  }

  /** Writes what a relist changed as ordinary envelopes, then records the list's time. */
  private async writeRelist(nodeChanges: NodeCacheChange[], term: number): Promise<void> {
    const started = this.now();
    if (
      nodeChanges.length > 0 &&
      !(await this.write('nodes', term, nodeChanges.length, started, (w) => w.applyNodeChanges(nodeChanges)))
    ) {
      return;
    }
    const flushed = await this.flushPods(term);
    if (flushed === undefined || !(await this.recordListed(term, undefined))) return;
    this.notify((o) =>
      o.onReconciled?.({
        reason: 'relist',
        nodeChanges: nodeChanges.length,
        podDeltas: flushed.podDeltas,
        allocations: flushed.allocations,
        durationMs: this.now() - started,
      }),
    );
  }

  /**
   * Diffs the caches against what Redis holds and writes only the differences
   * (runs on the queue). Redis without `syncedAt` holds no state of this life: the
   * one case that rebuilds.
   */
  private async reconcile(reason: 'lead' | 'repair', term: number): Promise<void> {
    if (!this.gate.writerFor(term)) return;
    if (!this.synced) {
      // Nothing to diff yet: the list that completes the sync reconciles.
      this.gate.enter(term, 'reconciling');
      await this.syncStatus(term);
      return;
    }
    const started = this.now();
    const ahead = reason === 'lead' && this.readAhead?.term === term ? this.readAhead : undefined;
    this.readAhead = undefined;
    const read: { state?: StoredClusterState } = { state: ahead?.state };
    const ok =
      ahead !== undefined ||
      (await this.write('read', term, 0, undefined, async (w) => {
        read.state = await w.readState();
      }));
    const stored = read.state;
    if (!ok || !stored || !this.gate.writerFor(term)) return;
    if (stored.syncedAt === undefined) {
      await this.rebuild(term, ahead?.staged);
      return;
    }
    const nodeChanges = diffNodes(stored.nodes, this.nodeCache.list());
    // Absolute counts and allocation and the pending changes they include, taken
    // together: changes arriving from here on are flushed on top of what this writes.
    const counts = this.podIndex.counts();
    const allocations = this.podIndex.allocations();
    this.coalescer.take();
    const podDeltas = diffPodCounts(stored.podCounts, counts);
    const allocation = diffAllocation(stored.allocation, allocations);
    const podNodes = Object.keys(podDeltas).length;
    const allocationNodes = Object.keys(allocation).length;
    if (
      nodeChanges.length > 0 &&
      !(await this.write('nodes', term, nodeChanges.length, undefined, (w) =>
        w.applyNodeChanges(nodeChanges),
      ))
    ) {
      return;
    }
    if (
      podNodes + allocationNodes > 0 &&
      !(await this.write('pods', term, podNodes + allocationNodes, undefined, (w) =>
        w.applyPodDeltas(podDeltas, allocation),
      ))
    ) {
      return;
    }
    if (!(await this.recordListed(term, stored.syncedAt))) return;
    this.nowServing(term);
    this.notify((o) =>
      o.onReconciled?.({
        reason,
        nodeChanges: nodeChanges.length,
        podDeltas: podNodes,
        allocations: allocationNodes,
        durationMs: this.now() - started,
      }),
    );
    await this.syncStatus(term);
  }

  /**
   * While the term's pods are still listing (its nodes are listed; runs on the queue,
   * once per term): reads what Redis holds for the term's first reconcile and, when
   * that will rebuild (no `syncedAt`), stages the nodes now. A failure here is left to
   * that reconcile, which then reads (and rebuilds) as without it.
   */
  private async stageAhead(term: number): Promise<void> {
    if (this.readAhead?.term === term || !this.gate.writerFor(term)) return;
    const read: { state?: StoredClusterState } = {};
    const readOk = await this.write(
      'read',
      term,
      0,
      undefined,
      async (w) => {
        read.state = await w.readState();
      },
      false,
    );
    if (!readOk || !read.state) return;
    const ahead: { term: number; state: StoredClusterState; staged?: StagedNodes } = {
      term,
      state: read.state,
    };
    this.readAhead = ahead;
    const nodes = this.nodeCache.list();
    if (read.state.syncedAt !== undefined || nodes.length === 0) return;
    await this.write(
      'stage',
      term,
      nodes.length,
      undefined,
      async (w) => {
        ahead.staged = await w.stageRebuild(nodes);
      },
      false,
    );
  }

  /**
   * Writes the whole state in one swap with a `resync` (runs on the queue); `staged`:
   * the nodes this term staged ahead (the writer writes only those changed since).
   */
  private async rebuild(term: number, staged?: StagedNodes): Promise<void> {
    const nodes = this.nodeCache.list();
    const podCounts = this.podIndex.counts();
    const allocation = this.podIndex.allocations();
    this.coalescer.take();
    const started = this.now();
    const ok = await this.write('rebuild', term, nodes.length, undefined, (w) =>
      w.rebuild(
        staged === undefined
          ? { nodes, podCounts, allocation, reason: 'rebuild' }
          : { nodes, podCounts, allocation, reason: 'rebuild', staged },
      ),
    );
    if (!ok || !this.gate.writerFor(term)) return;
    // The swap set status ready and syncedAt (to now, later than any list we hold).
    this.statusTracker.markWritten({ status: 'ready' });
    this.syncedWritten = this.listedAt;
    this.nowServing(term);
    this.notify((o) =>
      o.onRebuilt?.({ nodes: nodes.length, pods: this.podIndex.size, durationMs: this.now() - started }),
    );
    await this.syncStatus(term);
  }

  private nowServing(term: number): void {
    this.gate.enter(term, 'serving');
    this.servedThisTerm = true;
    this.writeBackoff.reset();
    // Deltas that arrived while the state was written go out on top of it.
    this.coalescer.arm();
  }

  /**
   * Records the last list's time as `syncedAt` unless this term already did (or
   * `stored` is as recent). False when the write failed.
   */
  private async recordListed(term: number, stored: string | undefined): Promise<boolean> {
    const listedAt = this.listedAt;
    if (!listedAt || listedAt === this.syncedWritten) return true;
    if (stored !== undefined && stored >= listedAt.toISOString()) return true;
    const ok = await this.write('synced', term, 1, undefined, (w) => w.markSynced(listedAt));
    if (ok) this.syncedWritten = listedAt;
    return ok;
  }

  /**
   * Writes the pending pod-count deltas and allocations (one call) when serving: how
   * many nodes of each were written, undefined when not written.
   */
  private async flushPods(term: number): Promise<{ podDeltas: number; allocations: number } | undefined> {
    if (!this.gate.serving(term)) return undefined;
    const { deltas, allocation, since } = this.coalescer.take();
    const written = { podDeltas: Object.keys(deltas).length, allocations: Object.keys(allocation).length };
    const items = written.podDeltas + written.allocations;
    if (items === 0) return written;
    const ok = await this.write('pods', term, items, since, (w) => w.applyPodDeltas(deltas, allocation));
    return ok ? written : undefined;
  }

  /** Writes the wanted status if it differs from the last one written (runs on the queue). */
  private async syncStatus(term: number): Promise<void> {
    if (!this.gate.writerFor(term)) return;
    const due = this.statusTracker.due(this.servedThisTerm);
    if (!due) return;
    const ok = await this.write('status', term, 1, undefined, (w) => w.setStatus(due.status, due.error));
    if (ok) this.statusTracker.markWritten(due);
  }

  private refreshStatus(): void {
    if (!this.statusTracker.refresh()) return;
    this.statusChanged();
  }

  private statusChanged(): void {
    const { status, error } = this.statusTracker.wanted;
    this.notify((o) => o.onStatus?.(status, error));
    const term = this.gate.term;
    if (this.gate.open) void this.queue.run(() => this.syncStatus(term));
  }

  private async heartbeat(term: number): Promise<void> {
    await this.write('heartbeat', term, 1, undefined, (w) => w.heartbeat(), false);
  }

  /**
   * Runs one Redis call with the writer of `term` (nothing when the term ended).
   * Fenced -> stop writing now and tell the listeners. Other failure -> repair: the
   * state is `repairing` and a reconcile is scheduled with backoff (unless
   * `repairOnFailure` is false). Never throws.
   */
  private async write(
    kind: SyncWriteKind,
    term: number,
    items: number,
    since: number | undefined,
    fn: (writer: ClusterStateWriter) => Promise<unknown>,
    repairOnFailure = true,
  ): Promise<boolean> {
    const writer = this.gate.writerFor(term);
    if (!writer) return false;
    const started = this.now();
    try {
      await fn(writer);
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
        if (this.gate.writerFor(term)) {
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
      if (repairOnFailure) this.scheduleRepair(term);
      return false;
    }
  }

  /** After a failed write Redis' state is unknown: reconcile (with backoff) instead of writing on top of it. */
  private scheduleRepair(term: number): void {
    if (!this.gate.writerFor(term)) return;
    this.gate.enter(term, 'repairing');
    if (this.repairTimer || this.stopped) return;
    this.repairTimer = setTimeout(() => {
      this.repairTimer = undefined;
      void this.queue.run(() => this.reconcile('repair', term));
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
        forward.onHealth?.(resource, healthy, error);
        if (this.statusTracker.setHealth(resource, healthy, error)) this.statusChanged();
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
