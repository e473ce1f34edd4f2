import type {
  BatchMessage,
  ClusterName,
  Envelope,
  NodeView,
  RealtimeErrorCode,
  SubscribeAck,
} from '@knm/contracts';
import type { ReconnectBackoff } from './backoff.js';
import { ClusterView } from './cluster-view.js';
import { KnmApiError, type RestClient } from './rest-client.js';
import { TypedEmitter } from './typed-emitter.js';

/**
 * Where a watch is:
 * - `loading`: reading the snapshot over REST (envelopes are ignored; they will be replayed)
 * - `subscribing`: subscribed with the view's seq, waiting for the ack (the batch of what it missed follows it)
 * - `live`: applying envelopes as they come
 * - `waiting`: disconnected or backing off before a retry; the view is kept (and stale)
 * - `failed`: the gateway refused the cluster for good (forbidden, malformed); see the `error` event
 * - `closed`
 */
export type WatchState = 'loading' | 'subscribing' | 'live' | 'waiting' | 'failed' | 'closed';

/** Longest delay before live envelopes applied are acked to the gateway. */
const ACK_EVERY_MS = 250;

/** A change applied to the view, with the node before and after for node envelopes. */
export interface ChangeEvent {
  envelope: Envelope;
  /** The node after the change (node_add / node_update). */
  node?: NodeView;
  /** The node before the change (node_update / node_delete). */
  previous?: NodeView;
}

/** A refusal of the gateway for this cluster. */
export class WatchRefusedError extends Error {
  override readonly name = 'WatchRefusedError';

  constructor(
    readonly code: RealtimeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Events of a {@link ClusterWatch}. */
export interface WatchEvents extends Record<string, unknown> {
  /** One envelope was applied (in seq order, each exactly once). */
  change: ChangeEvent;
  /**
   * The view was replaced by a snapshot read at `seq`: over REST (initial load, gap,
   * resync), or a whole-state batch from the gateway (reason `batch`).
   */
  reload: { reason: string; seq: number };
  /**
   * A folded batch was applied (the view went from a seq in `[fromSeq, seq]` to
   * `seq`); its envelopes follow as `change` events, each with the seq of its key's
   * last change (so those seqs are not contiguous). Not emitted for a whole-state
   * batch, which is a `reload`. A batch in parts is told part by part (`part`; `more`
   * until the last, and the view is at `seq` only after that one).
   */
  batch: { fromSeq: number; seq: number; envelopes: number; part?: number; more?: boolean };
  state: WatchState;
  error: Error;
}

/** Counters of what a watch did; `gaps` and `reloads` stay 0 when resuming never lost anything. */
export interface WatchStats {
  /** Envelopes applied. */
  applied: number;
  /** Envelopes received again (replayed after a resume) and ignored. */
  duplicates: number;
  /** Missing envelopes detected while live (each caused a reload). */
  gaps: number;
  /** REST snapshot reloads after the initial load (a gap or a resync). */
  reloads: number;
  /** Re-subscriptions from the view's seq after a reconnect (no reload). */
  resumes: number;
  /** Folded batches applied (a resume, or the gateway merging changes for a socket that fell behind). */
  batches: number;
  /** Batches that carried the whole state (the events stream no longer reached back to the view's seq). */
  wholeStateBatches: number;
}

/** What the watch needs of its client. */
export interface WatchHost {
  readonly rest: RestClient;
  readonly connected: boolean;
  readonly backoff: ReconnectBackoff;
  subscribe(cluster: ClusterName, sinceSeq: number): Promise<SubscribeAck>;
  unsubscribe(cluster: ClusterName): void;
  /** Tells the gateway the view applied everything up to `seq`, or `part` of the batch in parts up to `seq` (flow control). */
  ack(cluster: ClusterName, seq: number, part?: number): void;
  forget(watch: ClusterWatch): void;
}

/**
 * A consistent, live local view of one cluster. It loads the snapshot over REST (with
 * its seq; up to a second old, shared with other clients opening at once),
 * subscribes with `sinceSeq` = that seq so the gateway sends whatever happened since
 * as one folded batch, and applies each envelope exactly once in seq order, and each
 * batch whole. After a reconnect (to any gateway) it re-subscribes from its last seq
 * and keeps its view: nothing is lost or applied twice. Only a gap while live, or a
 * `resync` (the cluster's continuity was lost), reloads the snapshot. Works in Node
 * and browsers.
 */
export class ClusterWatch extends TypedEmitter<WatchEvents> {
  readonly view: ClusterView;
  readonly stats: WatchStats = {
    applied: 0,
    duplicates: 0,
    gaps: 0,
    reloads: 0,
    resumes: 0,
    batches: 0,
    wholeStateBatches: 0,
  };
  private current: WatchState = 'waiting';
  private generation = 0;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;

  constructor(
    readonly cluster: ClusterName,
    private readonly host: WatchHost,
  ) {
    super();
    this.view = new ClusterView(cluster);
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => undefined);
  }

  /** Resolves the first time the watch is live; rejects if it fails or is closed first. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  get state(): WatchState {
    return this.current;
  }

  /** The seq the view reflects. */
  get seq(): number {
    return this.view.seq;
  }

  /** Every node with its pod count, by name. */
  nodes(): NodeView[] {
    return this.view.nodes();
  }

  /** Stops watching: unsubscribes and forgets the view. */
  close(): void {
    if (this.current === 'closed') return;
    this.generation += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.setState('closed');
    this.rejectReady(new Error('watch closed'));
    this.host.unsubscribe(this.cluster);
    this.host.forget(this);
  }

  /** @internal The client connected (first time or again). */
  onConnected(): void {
    if (this.current === 'closed' || this.current === 'failed') return;
    if (this.view.loaded) void this.resume();
    else void this.reload('initial');
  }

  /** @internal The gateway cannot be spoken to (another protocol): fail for good with `err`. */
  onIncompatible(err: Error): void {
    if (this.current === 'closed' || this.current === 'failed') return;
    this.generation += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.setState('failed');
    this.emit('error', err);
    this.rejectReady(err);
  }

  /** @internal The client lost its connection. */
  onDisconnected(): void {
    if (this.current === 'closed' || this.current === 'failed') return;
    this.generation += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.setState('waiting');
  }

  /** @internal An envelope of this cluster arrived. */
  onEnvelope(envelope: Envelope): void {
    if (this.current !== 'live' && this.current !== 'subscribing') return;
    const previous =
      envelope.type === 'node_update' || envelope.type === 'node_delete'
        ? this.view.node(envelope.node)
        : undefined;
    const outcome = this.view.apply(envelope);
    switch (outcome) {
      case 'duplicate':
      case 'gap':
        this.notApplied(outcome);
        return;
      case 'resync':
        void this.reload(envelope.type === 'resync' ? envelope.data.reason : 'resync');
        return;
      case 'applied':
        this.stats.applied += 1;
        this.scheduleAck();
        this.emitChange(envelope, previous);
    }
  }

  /** @internal A batch of this cluster arrived. */
  onBatch(batch: BatchMessage): void {
    if (this.current !== 'live' && this.current !== 'subscribing') return;
    const previous = new Map<string, NodeView | undefined>();
    for (const e of batch.envelopes) {
      if ((e.type === 'node_update' || e.type === 'node_delete') && !previous.has(e.node)) {
        previous.set(e.node, this.view.node(e.node));
      }
    }
    const outcome = this.view.applyBatch(batch);
    switch (outcome) {
      case 'duplicate':
      case 'gap':
        this.notApplied(outcome);
        return;
      case 'resync':
        return;
      case 'applied': {
        const last = batch.more !== true;
        if (last) this.stats.batches += 1;
        this.stats.applied += batch.envelopes.length;
        // At once: the gateway sends the next batch (or part) only after this one is
        // acked. A live batch (a run of live envelopes) is acked like them: the gateway
        // does not wait.
        if (batch.live === true) this.scheduleAck();
        else if (last) this.host.ack(this.cluster, this.view.seq);
        else this.host.ack(this.cluster, batch.seq, batch.part ?? 0);
        if (batch.fromSeq === 0) {
          // The view is the whole state once its last part is in.
          if (!last) return;
          this.stats.wholeStateBatches += 1;
          this.emit('reload', { reason: 'batch', seq: batch.seq });
          return;
        }
        const told: WatchEvents['batch'] = {
          fromSeq: batch.fromSeq,
          seq: batch.seq,
          envelopes: batch.envelopes.length,
        };
        if (batch.part !== undefined) told.part = batch.part;
        if (!last) told.more = true;
        this.emit('batch', told);
        for (const envelope of batch.envelopes) {
          this.emitChange(envelope, 'node' in envelope ? previous.get(envelope.node) : undefined);
        }
      }
    }
  }

  /** A duplicate is counted; a gap while live is a loss: reload (while subscribing, the resume fills it). */
  private notApplied(outcome: 'duplicate' | 'gap'): void {
    if (outcome === 'duplicate') {
      this.stats.duplicates += 1;
      return;
    }
    if (this.current === 'live') {
      this.stats.gaps += 1;
      void this.reload('gap');
    }
  }

  /** Tells listeners of an applied envelope, with the node after (add, update) and before it. */
  private emitChange(envelope: Envelope, previous: NodeView | undefined): void {
    const event: ChangeEvent = { envelope };
    if (envelope.type === 'node_add' || envelope.type === 'node_update') {
      const node = this.view.node(envelope.node);
      if (node) event.node = node;
    }
    if (previous) event.previous = previous;
    this.emit('change', event);
  }

  /** Acks live envelopes at most every 250 ms (the gateway bounds what is sent but not acked). */
  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (this.current === 'live' || this.current === 'subscribing')
        this.host.ack(this.cluster, this.view.seq);
    }, ACK_EVERY_MS);
  }

  private async reload(reason: string): Promise<void> {
    const generation = ++this.generation;
    if (reason !== 'initial') this.stats.reloads += 1;
    this.setState('loading');
    try {
      // A first load may share a snapshot up to a second old (the subscription resumes
      // from its seq); a reload after a resync or a gap must not: it may predate it.
      const [list, clusters] = await Promise.all([
        this.host.rest.listNodes(this.cluster, {}, reason === 'initial' ? { maxStaleSeconds: 1 } : {}),
        this.host.rest.listClusters(),
      ]);
      if (generation !== this.generation) return;
      this.view.load({ seq: list.seq, nodes: list.items, usage: list.usage });
      const summary = clusters.items.find((c) => c.name === this.cluster);
      if (summary) {
        const status: NonNullable<Parameters<ClusterView['setStatus']>[0]> = { status: summary.status };
        if (summary.error !== undefined) status.error = summary.error;
        if (summary.nodeCount !== undefined) status.nodeCount = summary.nodeCount;
        if (summary.podCount !== undefined) status.podCount = summary.podCount;
        if (summary.syncedAt !== undefined) status.syncedAt = summary.syncedAt;
        if (summary.leader !== undefined) status.leader = summary.leader;
        this.view.setStatus(status);
      }
      this.emit('reload', { reason, seq: list.seq });
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof KnmApiError && (err.status === 403 || err.status === 400)) {
        this.refuse(
          new WatchRefusedError(
            err.status === 403 ? 'forbidden' : 'bad_request',
            err.body?.message ?? err.message,
          ),
        );
        return;
      }
      this.fail(err as Error, () => this.reload(reason));
      return;
    }
    await this.subscribe(generation);
  }

  private async resume(): Promise<void> {
    const generation = ++this.generation;
    this.stats.resumes += 1;
    await this.subscribe(generation);
  }

  private async subscribe(generation: number): Promise<void> {
    if (!this.host.connected) {
      this.setState('waiting');
      return;
    }
    this.setState('subscribing');
    let ack: SubscribeAck;
    try {
      ack = await this.host.subscribe(this.cluster, this.view.seq);
    } catch (err) {
      if (generation !== this.generation) return;
      this.fail(err as Error, () => this.resume());
      return;
    }
    if (generation !== this.generation) return;
    if (ack.ok) {
      this.retries = 0;
      this.setState('live');
      this.resolveReady();
      return;
    }
    const refused = new WatchRefusedError(ack.error.code, ack.error.message);
    if (ack.error.code === 'forbidden' || ack.error.code === 'bad_request') {
      this.refuse(refused);
      return;
    }
    this.fail(refused, () => this.reload('retry'));
  }

  private refuse(err: WatchRefusedError): void {
    this.setState('failed');
    this.emit('error', err);
    this.rejectReady(err);
  }

  private fail(err: Error, retry: () => Promise<void>): void {
    this.emit('error', err);
    this.setState('waiting');
    this.retries += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.host.connected && this.current === 'waiting') void retry();
    }, this.host.backoff.delayMs(this.retries));
  }

  private setState(state: WatchState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }
}
