import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { RealtimeEvents, type ClusterName, type Envelope, type GatewayStats } from '@knm/contracts';
import type { ChangeSubscriber, NodeStoreReader } from '@knm/node-store';
import type { GatewayMetrics } from '../health/gateway-metrics.js';
import { SocketSubscription, type BacklogLimits } from './socket-subscription.js';

/** Options of {@link ClusterFeed}. */
export interface ClusterFeedOptions extends BacklogLimits {
  gatewayId: string;
  /** Envelopes read from the stream per round trip during a replay. Default min(500, maxBufferedMessages / 2). */
  replayBatch?: number;
}

/** The Socket.IO room of a cluster's subscribers (joined for adapter-wide emits, not for envelope fan-out). */
export function clusterRoom(cluster: string): string {
  return `cluster:${cluster}`;
}

/**
 * This replica's side of the realtime fan-out. It subscribes to a cluster's Redis
 * changes channel while at least one of its sockets watches that cluster (reference
 * counted, SUBSCRIBE/UNSUBSCRIBE serialised per cluster) and hands every envelope to
 * each LOCAL subscription of that cluster: every replica already receives every
 * envelope through Redis pub/sub, so nothing is published through the Socket.IO
 * adapter (that would duplicate): each envelope is encoded once and written to the
 * local sockets that admit it in one `local` broadcast. A subscription with
 * `sinceSeq` replays the stream after SUBSCRIBE has taken effect, so no envelope
 * falls between replay and live.
 */
export class ClusterFeed {
  private readonly byCluster = new Map<ClusterName, Set<SocketSubscription>>();
  private readonly bySocket = new Map<string, Map<ClusterName, SocketSubscription>>();
  private readonly refs = new Map<ClusterName, number>();
  private readonly ops = new Map<ClusterName, Promise<void>>();
  private readonly epochs = new Map<ClusterName, number>();
  private readonly replayBatch: number;

  constructor(
    private readonly changes: ChangeSubscriber,
    private readonly reader: NodeStoreReader,
    private readonly options: ClusterFeedOptions,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.replayBatch =
      options.replayBatch ?? Math.max(1, Math.min(500, Math.floor(options.maxBufferedMessages / 2)));
    changes.onEnvelope((e) => this.dispatch(e));
  }

  /**
   * Subscribes `socket` to `cluster` (replacing an earlier subscription of the same
   * socket and cluster). Without `sinceSeq` the socket gets every envelope after the
   * cluster's current seq; with it, the envelopes after `sinceSeq` are replayed first
   * (or, when the stream no longer has them, one `resync` replay_unavailable is sent
   * and live delivery continues from the current seq). Resolves with the seq the
   * socket is at when live delivery starts.
   */
  async subscribe(socket: Socket, cluster: ClusterName, epoch: number, sinceSeq?: number): Promise<number> {
    this.unsubscribe(socket, cluster);
    this.epochs.set(cluster, epoch);
    const subscription = new SocketSubscription(
      socket,
      cluster,
      sinceSeq ?? 0,
      this.options,
      {
        sent: (kind) => this.metrics.envelopesSent.inc({ kind }),
        ended: (sub, reason, disconnected) => {
          this.metrics.resyncsSent.inc({ reason });
          if (disconnected) this.metrics.slowDisconnects.inc();
          this.logger.warn({ socket: socket.id, cluster, disconnected }, 'slow consumer: subscription ended');
          this.remove(sub);
        },
      },
      () => this.epochs.get(cluster) ?? 0,
    );
    this.add(subscription);
    try {
      await this.acquire(cluster);
      if (subscription.ended) return subscription.lastSeq;
      if (sinceSeq === undefined) {
        const summary = await this.reader.getCluster(cluster);
        subscription.goLive(summary?.seq ?? 0);
        return subscription.lastSeq;
      }
      let cursor = sinceSeq;
      for (;;) {
        const batch = await this.reader.readEventsAfter(cluster, cursor, this.replayBatch);
        if (subscription.ended) return subscription.lastSeq;
        if (batch.status === 'gap') {
          this.metrics.resyncsSent.inc({ reason: 'replay_unavailable' });
          subscription.sendResync('replay_unavailable', batch.lastSeq);
          subscription.lastSeq = batch.lastSeq;
          subscription.goLive(batch.lastSeq);
          return subscription.lastSeq;
        }
        for (const envelope of batch.envelopes) {
          if (!subscription.replay(envelope)) return subscription.lastSeq;
        }
        cursor = batch.lastSeq;
        if (cursor >= batch.currentSeq || batch.envelopes.length === 0) break;
      }
      subscription.goLive(cursor);
      return subscription.lastSeq;
    } catch (err) {
      this.remove(subscription);
      throw err;
    }
  }

  /** Ends `socket`'s subscription to `cluster`; returns whether there was one. */
  unsubscribe(socket: Socket, cluster: ClusterName): boolean {
    const existing = this.bySocket.get(socket.id)?.get(cluster);
    if (!existing) return false;
    this.remove(existing);
    return true;
  }

  /** Ends every subscription of a socket (it disconnected). */
  dropSocket(socket: Socket): void {
    for (const sub of [...(this.bySocket.get(socket.id)?.values() ?? [])]) this.remove(sub);
  }

  /** This replica's sockets and subscriptions per cluster. */
  stats(clients: number): GatewayStats {
    const subscriptions: Record<string, number> = {};
    for (const [cluster, subs] of this.byCluster) subscriptions[cluster] = subs.size;
    return { gateway: this.options.gatewayId, clients, subscriptions };
  }

  /**
   * Catches every live subscription up after the changes connection reconnected:
   * Redis pub/sub is at-most-once, so envelopes published while it was down are read
   * from the events stream (once per cluster) and sent to each socket that lacks
   * them, before live delivery resumes. Call it on the subscriber's reconnect.
   */
  async catchUpAll(): Promise<void> {
    await Promise.allSettled([...this.byCluster.keys()].map((cluster) => this.catchUp(cluster)));
  }

  private async catchUp(cluster: ClusterName): Promise<void> {
    const subs = [...(this.byCluster.get(cluster) ?? [])].filter((s) => s.live);
    if (subs.length === 0) return;
    for (const sub of subs) sub.hold();
    try {
      // Ordered after ioredis's own re-SUBSCRIBE on the same connection: once this
      // resolves, everything newer arrives live (held until goLive).
      await this.changes.subscribe(cluster);
      let cursor = Math.min(...subs.map((s) => s.lastSeq));
      for (;;) {
        const batch = await this.reader.readEventsAfter(cluster, cursor, this.replayBatch);
        if (batch.status === 'gap') {
          for (const sub of subs) {
            if (sub.ended) continue;
            this.metrics.resyncsSent.inc({ reason: 'replay_unavailable' });
            sub.sendResync('replay_unavailable', batch.lastSeq);
            sub.lastSeq = Math.max(sub.lastSeq, batch.lastSeq);
          }
          return;
        }
        for (const envelope of batch.envelopes) for (const sub of subs) sub.replay(envelope);
        cursor = batch.lastSeq;
        if (cursor >= batch.currentSeq || batch.envelopes.length === 0) break;
      }
    } catch (err) {
      this.logger.warn({ err, cluster }, 'catch-up after a changes reconnect failed; clients will see a gap');
    } finally {
      for (const sub of subs) sub.goLive(sub.lastSeq);
    }
  }

  /** Unsubscribes from every channel (the replica is shutting down). */
  async close(): Promise<void> {
    for (const subs of [...this.byCluster.values()]) for (const sub of [...subs]) this.remove(sub);
    await Promise.allSettled([...this.ops.values()]);
  }

  private dispatch(envelope: Envelope): void {
    if (envelope.type === 'resync') this.epochs.set(envelope.cluster, envelope.data.epoch);
    const subs = this.byCluster.get(envelope.cluster);
    if (!subs) return;
    // Decide per socket (seq filter, hold while replaying, slow-consumer bound), then
    // write to every admitted socket in ONE local broadcast: the adapter encodes the
    // packet (and its websocket frame) once and every socket's write buffer shares it,
    // where a per-socket emit would JSON-encode it once per socket. Addressed by socket
    // id (each socket is in the room named by its id), not by the cluster room, so
    // exactly the admitted sockets get it. `local`: the Redis adapter neither publishes
    // it nor expects other replicas to (each receives the envelope from Redis itself).
    // Deleting from a Set while iterating it is safe (a slow consumer removes itself).
    const admitted: string[] = [];
    let nsp: Namespace | undefined;
    for (const sub of subs) {
      if (!sub.admit(envelope)) continue;
      admitted.push(sub.socket.id);
      nsp = sub.socket.nsp;
    }
    if (!nsp) return;
    nsp.local.to(admitted).emit(RealtimeEvents.envelope, envelope);
    this.metrics.envelopesSent.inc({ kind: 'live' }, admitted.length);
  }

  private add(sub: SocketSubscription): void {
    let subs = this.byCluster.get(sub.cluster);
    if (!subs) this.byCluster.set(sub.cluster, (subs = new Set()));
    subs.add(sub);
    let mine = this.bySocket.get(sub.socket.id);
    if (!mine) this.bySocket.set(sub.socket.id, (mine = new Map()));
    mine.set(sub.cluster, sub);
    void sub.socket.join(clusterRoom(sub.cluster));
    this.metrics.subscriptions.set({ cluster: sub.cluster }, subs.size);
  }

  private remove(sub: SocketSubscription): void {
    const subs = this.byCluster.get(sub.cluster);
    const mine = this.bySocket.get(sub.socket.id);
    if (mine?.get(sub.cluster) !== sub) return;
    sub.end();
    mine.delete(sub.cluster);
    if (mine.size === 0) this.bySocket.delete(sub.socket.id);
    subs?.delete(sub);
    if (subs && subs.size === 0) this.byCluster.delete(sub.cluster);
    this.metrics.subscriptions.set({ cluster: sub.cluster }, subs?.size ?? 0);
    void sub.socket.leave(clusterRoom(sub.cluster));
    this.release(sub.cluster);
  }

  /** SUBSCRIBEs to the cluster's channel on the first reference; resolves when it is in effect. */
  private acquire(cluster: ClusterName): Promise<void> {
    const count = (this.refs.get(cluster) ?? 0) + 1;
    this.refs.set(cluster, count);
    if (count === 1) return this.enqueue(cluster, () => this.changes.subscribe(cluster));
    return this.ops.get(cluster) ?? Promise.resolve();
  }

  private release(cluster: ClusterName): void {
    const count = (this.refs.get(cluster) ?? 0) - 1;
    if (count > 0) {
      this.refs.set(cluster, count);
      return;
    }
    this.refs.delete(cluster);
    void this.enqueue(cluster, () => this.changes.unsubscribe(cluster)).catch((err: unknown) =>
      this.logger.warn({ err, cluster }, 'could not unsubscribe from the changes channel'),
    );
  }

  private enqueue(cluster: ClusterName, op: () => Promise<void>): Promise<void> {
    const previous = this.ops.get(cluster) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(op);
    this.ops.set(cluster, next);
    void next
      .finally(() => {
        if (this.ops.get(cluster) === next) this.ops.delete(cluster);
      })
      .catch(() => undefined);
    return next;
  }
}
