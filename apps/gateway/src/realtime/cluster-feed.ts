import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import {
  EnvelopeFold,
  RealtimeEvents,
  type BatchMessage,
  type ClusterName,
  type Envelope,
  type EnvelopeOf,
  type GatewayStats,
} from '@knm/contracts';
import type { ChangeSubscriber, NodeStoreReader } from '@knm/node-store';
import type { GatewayMetrics } from '../health/gateway-metrics.js';
import { ClusterLog } from './cluster-log.js';
import { LivePacer } from './live-pacer.js';
import { SocketSubscription, type BatchReason, type DeliveryLimits } from './socket-subscription.js';

/** Options of {@link ClusterFeed}. */
export interface ClusterFeedOptions extends DeliveryLimits {
  gatewayId: string;
  /** Envelopes read from the stream per round trip when a log does not reach back. Default 1,000. */
  streamBatch?: number;
  /** Period of the check of merged sockets (missed drains, slow-socket timeout, backlog gauge). Default 250 ms. */
  tickMs?: number;
  /**
   * Merged sockets that ask for a batch within this window are answered together:
   * those at the same seq share one fold and one encoding. Default 25 ms.
   */
  flushWindowMs?: number;
  /**
   * Live messages a second per cluster to a socket, sustained, after a burst of twice
   * that: faster changes go out in runs, as live batches ({@link LivePacer}). 0 = every
   * envelope on its own. Default 20.
   */
  liveRate?: number;
}

/** The Socket.IO room of a cluster's subscribers (joined for adapter-wide emits, not for envelope fan-out). */
export function clusterRoom(cluster: string): string {
  return `cluster:${cluster}`;
}

/** One cluster on this replica: its compacted log once the channel subscription took effect, and its subscriptions. */
interface ClusterChannel {
  log: ClusterLog | undefined;
  /** Live envelopes that arrived while the log was being set up or caught up, in order. */
  held: Envelope[] | undefined;
  subs: Set<SocketSubscription>;
  /** Merged subscriptions that asked for a batch since the last flush round. */
  flushing: Set<SocketSubscription>;
  /** The pending flush round, if one is scheduled. */
  flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Paces live envelopes: each on its own while the cluster is quiet, in runs when it is not. */
  pacer: LivePacer;
}

/**
 * This replica's side of the realtime fan-out.
 *
 * It subscribes to a cluster's Redis changes channel while at least one of its
 * sockets watches that cluster (SUBSCRIBE/UNSUBSCRIBE serialised per cluster) and
 * keeps a {@link ClusterLog} of it: every envelope folded to the latest state per key.
 *
 * Live sockets get each envelope as it comes, encoded once and written to all of them
 * in one `local` broadcast (every replica receives every envelope from Redis itself,
 * so nothing goes through the adapter); while a cluster changes faster than the live
 * pace (`liveRate`), the envelopes that arrive between two messages go out together
 * as one live batch. A socket that falls behind (backlog past a
 * bound, or missing envelopes), that resumes with `sinceSeq`, or that asked for
 * `maxRate` is in merged delivery: whenever its buffer has drained it gets ONE
 * `batch` with everything after its seq, folded from the log, or when the log does
 * not reach back that far, from the events stream, or when the stream no longer does
 * either, from the hashes (the whole state, `fromSeq` 0). No socket is ever told to
 * reload because it was slow; only a cluster whose continuity is lost (the watcher's
 * `resync`, or a client ahead of Redis) is.
 */
export class ClusterFeed {
  private readonly channels = new Map<ClusterName, ClusterChannel>();
  private readonly bySocket = new Map<string, Map<ClusterName, SocketSubscription>>();
  private readonly ops = new Map<ClusterName, Promise<void>>();
  /** Subscriptions whose batch is being read from Redis (one read at a time each). */
  private readonly reading = new Set<SocketSubscription>();
  private readonly streamBatch: number;
  private readonly ticker: ReturnType<typeof setInterval>;
  private readonly host = { flush: (sub: SocketSubscription) => this.flush(sub) };

  constructor(
    private readonly changes: ChangeSubscriber,
    private readonly reader: NodeStoreReader,
    private readonly options: ClusterFeedOptions,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.streamBatch = options.streamBatch ?? 1_000;
    changes.onEnvelope((e) => this.dispatch(e));
    this.ticker = setInterval(() => this.tick(), options.tickMs ?? 250);
    this.ticker.unref();
  }

  /**
   * Subscribes `socket` to `cluster` (replacing an earlier subscription of the same
   * socket and cluster) and resolves with the seq the client is at once what was
   * sent before the ack is applied.
   * - Without `sinceSeq`: live from the cluster's current seq.
   * - With `sinceSeq` not above `currentSeq` (the cluster's seq, read before): one
   *   batch with everything after it (none when nothing changed), then live.
   * - With `sinceSeq` above `currentSeq`: the client comes from an earlier life of
   *   this Redis (it lost its data), so it is sent a `resync` (replay_unavailable).
   */
  async subscribe(
    socket: Socket,
    cluster: ClusterName,
    options: { sinceSeq?: number; maxRate?: number; currentSeq: number; epoch: number },
  ): Promise<number> {
    this.unsubscribe(socket, cluster);
    const channel = this.channel(cluster);
    const sub = new SocketSubscription(
      socket,
      cluster,
      options.sinceSeq ?? 0,
      options.maxRate,
      this.options,
      this.host,
    );
    this.add(channel, sub);
    try {
      await this.acquire(cluster, channel);
      if (sub.ended) return sub.lastSeq;
      const log = channel.log as ClusterLog;
      if (options.sinceSeq === undefined) {
        sub.lastSeq = Math.max(log.latestSeq, options.currentSeq);
      } else if (options.sinceSeq > options.currentSeq) {
        this.metrics.resyncsSent.inc({ reason: 'replay_unavailable' });
        sub.sendResync({
          type: 'resync',
          cluster,
          seq: Math.max(1, options.currentSeq),
          timestamp: new Date().toISOString(),
          data: { reason: 'replay_unavailable', epoch: options.epoch },
        });
        sub.lastSeq = Math.max(log.latestSeq, options.currentSeq);
      } else {
        await this.sendBatch(sub, channel, 'resume');
      }
      sub.place();
      if (!sub.ended && options.maxRate === undefined) sub.caughtUp();
      return sub.lastSeq;
    } catch (err) {
      this.remove(sub);
      throw err;
    }
  }

  /** The client of `socket` applied `cluster` up to `seq` (flow control). */
  ack(socket: Socket, cluster: ClusterName, seq: number): void {
    this.bySocket.get(socket.id)?.get(cluster)?.ack(seq);
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
    for (const [cluster, channel] of this.channels) subscriptions[cluster] = channel.subs.size;
    return { gateway: this.options.gatewayId, clients, subscriptions };
  }

  /**
   * Catches every cluster's log up after the changes connection reconnected: Redis
   * pub/sub is at-most-once, so envelopes published while it was down are read from
   * the events stream (live ones are held meanwhile) and every subscription is then
   * merged, so each socket gets what it lacks as one batch.
   */
  async catchUpAll(): Promise<void> {
    await Promise.allSettled([...this.channels.keys()].map((cluster) => this.catchUp(cluster)));
  }

  /** Unsubscribes from every channel (the replica is shutting down). */
  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const channel of [...this.channels.values()]) for (const sub of [...channel.subs]) this.remove(sub);
    await Promise.allSettled([...this.ops.values()]);
  }

  private async catchUp(cluster: ClusterName): Promise<void> {
    const channel = this.channels.get(cluster);
    const log = channel?.log;
    if (!channel || !log || channel.held) return;
    channel.held = [];
    try {
      // Ordered after ioredis's own re-SUBSCRIBE on the same connection: once this
      // resolves, everything newer arrives live (held until the stream was read).
      await this.changes.subscribe(cluster);
      let cursor = log.latestSeq;
      for (;;) {
        const page = await this.reader.readEventsAfter(cluster, cursor, this.streamBatch);
        if (page.status === 'gap') {
          log.restart(page.lastSeq);
          break;
        }
        for (const envelope of page.envelopes) log.add(envelope);
        cursor = page.lastSeq;
        if (cursor >= page.currentSeq || page.envelopes.length === 0) break;
      }
    } catch (err) {
      this.logger.warn(
        { err, cluster },
        'catch-up after a changes reconnect failed; merged sockets read Redis',
      );
    } finally {
      const held = channel.held;
      channel.held = undefined;
      for (const envelope of held) log.add(envelope);
      for (const sub of channel.subs) sub.merge();
    }
  }

  private dispatch(envelope: Envelope): void {
    const channel = this.channels.get(envelope.cluster);
    if (!channel) return;
    if (channel.held || !channel.log) {
      channel.held?.push(envelope);
      return;
    }
    const known = channel.log.latestSeq;
    channel.log.add(envelope);
    if (envelope.seq <= known) return;
    if (envelope.type === 'resync') {
      // Whatever waits in the pacer comes before the resync.
      channel.pacer.flush();
      for (const sub of channel.subs) if (sub.lastSeq < envelope.seq) sub.sendResync(envelope);
      return;
    }
    channel.pacer.push(envelope);
  }

  /**
   * Sends a paced run of consecutive live envelopes (one, or several as a live batch)
   * to the live sockets exactly at its start. Decide per socket (position, backlog
   * bound), then write to every admitted socket in ONE local broadcast: the adapter
   * encodes the packet (and its websocket frame) once and every socket's write buffer
   * shares it, where a per-socket emit would JSON-encode it once per socket. Addressed
   * by socket id (each socket is in the room named by its id), not by the cluster
   * room, so exactly the admitted sockets get it. `local`: the Redis adapter neither
   * publishes it nor expects other replicas to (each receives the envelope from Redis
   * itself).
   */
  private deliver(channel: ClusterChannel, run: readonly Envelope[]): void {
    const first = run[0] as Envelope;
    const last = run[run.length - 1] as Envelope;
    const fromSeq = first.seq - 1;
    const admitted: SocketSubscription[] = [];
    for (const sub of channel.subs) if (sub.admit(fromSeq, last.seq)) admitted.push(sub);
    const nsp: Namespace | undefined = admitted[0]?.socket.nsp;
    if (!nsp) return;
    const to = nsp.local.to(admitted.map((s) => s.socket.id));
    if (run.length === 1) {
      // Flow control counts the message's encoded size (once per message, for every socket).
      const bytes = JSON.stringify(first).length;
      for (const sub of admitted) sub.sent(first.seq, bytes);
      to.emit(first.type, first);
      this.metrics.envelopesSent.inc(admitted.length);
      return;
    }
    const fold = new EnvelopeFold(first.cluster, fromSeq);
    for (const envelope of run) fold.add(envelope);
    const batch: BatchMessage = {
      type: 'batch',
      cluster: first.cluster,
      fromSeq,
      seq: last.seq,
      envelopes: fold.since(fromSeq),
      live: true,
    };
    const bytes = JSON.stringify(batch).length;
    for (const sub of admitted) sub.sent(last.seq, bytes);
    to.emit(RealtimeEvents.batch, batch);
    this.metrics.batchesSent.inc({ reason: 'live' }, admitted.length);
    this.metrics.batchEnvelopes.inc(batch.envelopes.length * admitted.length);
  }

  /**
   * A merged subscription may want a batch. Requests are gathered for a short window
   * and answered in one round ({@link flushRound}), so that the many sockets a burst
   * pushed behind together, which sit at the same seq, share one batch.
   */
  private flush(sub: SocketSubscription): void {
    const channel = this.channels.get(sub.cluster);
    if (!channel || sub.ended) return;
    channel.flushing.add(sub);
    channel.flushTimer ??= setTimeout(() => {
      channel.flushTimer = undefined;
      this.flushRound(channel);
    }, this.options.flushWindowMs ?? 25);
  }

  /**
   * Sends each waiting subscription that is ready (drained, acked, within its rate) a
   * batch with everything after its seq. Those the log covers are grouped by seq: one
   * fold, one encoding and one local broadcast per group. The others (behind the log,
   * or behind a resync) go one by one ({@link sendBatch}).
   */
  private flushRound(channel: ClusterChannel): void {
    const waiting = [...channel.flushing];
    channel.flushing.clear();
    const log = channel.log;
    if (!log || channel.held) {
      for (const sub of waiting) if (!sub.ended) this.flush(sub);
      return;
    }
    const groups = new Map<string, SocketSubscription[]>();
    for (const sub of waiting) {
      if (sub.ended || this.reading.has(sub) || !sub.readyForBatch()) continue;
      const reason: BatchReason = sub.maxRate === undefined ? 'merged' : 'rate';
      const resync = log.lastResync;
      if ((resync && sub.lastSeq < resync.seq) || sub.lastSeq < log.fold.base) {
        void this.sendBatch(sub, channel, reason).catch((err: unknown) =>
          this.logger.warn(
            { err, cluster: sub.cluster, socket: sub.socket.id },
            'could not build a batch; retrying',
          ),
        );
        continue;
      }
      const key = `${sub.lastSeq}:${reason}`;
      const group = groups.get(key);
      if (group) group.push(sub);
      else groups.set(key, [sub]);
    }
    for (const [key, subs] of groups) {
      const reason = key.slice(key.indexOf(':') + 1) as BatchReason;
      const first = subs[0] as SocketSubscription;
      const fromSeq = first.lastSeq;
      const seq = log.latestSeq;
      const envelopes = log.fold.since(fromSeq);
      if (envelopes.length > 0) {
        const batch: BatchMessage = { type: 'batch', cluster: first.cluster, fromSeq, seq, envelopes };
        const bytes = JSON.stringify(batch).length;
        for (const sub of subs) sub.batchSent(seq, bytes);
        first.socket.nsp.local.to(subs.map((s) => s.socket.id)).emit(RealtimeEvents.batch, batch);
        this.metrics.batchesSent.inc({ reason }, subs.length);
        this.metrics.batchEnvelopes.inc(envelopes.length * subs.length);
      } else {
        for (const sub of subs) sub.lastSeq = Math.max(sub.lastSeq, seq);
      }
      if (reason === 'merged') for (const sub of subs) sub.caughtUp();
    }
  }

  /**
   * Sends `sub` one batch with everything after its seq (nothing when it has all),
   * folded from the log; from Redis when the log does not reach back. Resolves once
   * it was written to the socket.
   */
  private async sendBatch(
    sub: SocketSubscription,
    channel: ClusterChannel,
    reason: BatchReason,
  ): Promise<void> {
    const log = channel.log as ClusterLog;
    const resync = log.lastResync;
    if (resync && sub.lastSeq < resync.seq) {
      sub.sendResync(resync);
      return;
    }
    if (sub.lastSeq >= log.fold.base) {
      this.emitBatch(sub, sub.lastSeq, log.latestSeq, log.fold.since(sub.lastSeq), reason);
      if (reason === 'merged') sub.caughtUp();
      return;
    }
    this.reading.add(sub);
    try {
      await this.sendBatchFromRedis(sub, channel, reason);
    } finally {
      this.reading.delete(sub);
    }
    if (!sub.ended && sub.mode === 'merged') this.flush(sub);
  }

  /**
   * The log starts after the socket's seq: fold the events stream from there up to
   * where the log starts, then the log on top. When the stream no longer reaches
   * back, the whole state is read from the hashes (one consistent read at one seq)
   * and sent as a batch from 0.
   */
  private async sendBatchFromRedis(
    sub: SocketSubscription,
    channel: ClusterChannel,
    reason: BatchReason,
  ): Promise<void> {
    const from = sub.lastSeq;
    const fold = new EnvelopeFold(sub.cluster, from);
    let cursor = from;
    let gap = false;
    while (!sub.ended) {
      const log = channel.log as ClusterLog;
      if (cursor >= log.fold.base) break;
      const page = await this.reader.readEventsAfter(sub.cluster, cursor, this.streamBatch);
      if (page.status === 'gap') {
        gap = true;
        break;
      }
      for (const envelope of page.envelopes) {
        if (envelope.type === 'resync') {
          sub.sendResync(envelope);
          return;
        }
        fold.add(envelope);
      }
      if (page.envelopes.length === 0 || page.lastSeq === cursor) break;
      cursor = page.lastSeq;
    }
    // Another batch reached the socket meanwhile (its position moved): the next flush goes on from there.
    if (sub.ended || sub.lastSeq !== from) return;
    const log = channel.log as ClusterLog;
    if (gap || cursor < log.fold.base) {
      await this.sendWholeState(sub, channel);
      return;
    }
    for (const envelope of log.fold.since(cursor)) fold.add(envelope);
    this.emitBatch(sub, from, Math.max(cursor, log.latestSeq), fold.since(from), reason);
  }

  /** The whole state as one batch from 0 (the client clears its view first), with the log on top. */
  private async sendWholeState(sub: SocketSubscription, channel: ClusterChannel): Promise<void> {
    const from = sub.lastSeq;
    const [snapshot, summary] = await Promise.all([
      this.reader.getSnapshot(sub.cluster),
      this.reader.getCluster(sub.cluster),
    ]);
    if (sub.ended || sub.lastSeq !== from) return;
    const log = channel.log as ClusterLog;
    const timestamp = new Date().toISOString();
    const envelopes: Envelope[] = snapshot.nodes.map((data) => ({
      type: 'node_add',
      cluster: sub.cluster,
      node: data.name,
      seq: Math.max(1, snapshot.seq),
      timestamp,
      data,
    }));
    const seq = Math.max(1, snapshot.seq);
    envelopes.push({
      type: 'pod_counts',
      cluster: sub.cluster,
      seq,
      timestamp,
      data: { counts: snapshot.podCounts },
    });
    envelopes.push({
      type: 'allocation',
      cluster: sub.cluster,
      seq,
      timestamp,
      data: { nodes: snapshot.allocation },
    });
    if (snapshot.usage) {
      envelopes.push({ type: 'usage', cluster: sub.cluster, seq, timestamp, data: snapshot.usage });
    }
    if (summary) {
      const status: EnvelopeOf<'cluster_status'> = {
        type: 'cluster_status',
        cluster: sub.cluster,
        seq,
        timestamp,
        data: { status: summary.status },
      };
      if (summary.error !== undefined) status.data.error = summary.error;
      if (summary.nodeCount !== undefined) status.data.nodeCount = summary.nodeCount;
      if (summary.podCount !== undefined) status.data.podCount = summary.podCount;
      if (summary.syncedAt !== undefined) status.data.syncedAt = summary.syncedAt;
      if (summary.leader !== undefined) status.data.leader = summary.leader;
      envelopes.push(status);
    }
    // The snapshot alone is exact at its seq; the log adds what came after when it
    // reaches back that far (otherwise the next flush reads the stream from there).
    const onTop = snapshot.seq >= log.fold.base;
    if (onTop) envelopes.push(...log.fold.since(snapshot.seq));
    this.emitBatch(sub, 0, onTop ? Math.max(seq, log.latestSeq) : seq, envelopes, 'full');
  }

  private emitBatch(
    sub: SocketSubscription,
    fromSeq: number,
    seq: number,
    envelopes: Envelope[],
    reason: BatchReason,
  ): void {
    if (envelopes.length === 0 && fromSeq !== 0) {
      sub.lastSeq = Math.max(sub.lastSeq, seq);
      return;
    }
    sub.sendBatch(fromSeq, Math.max(1, seq), envelopes);
    this.metrics.batchesSent.inc({ reason });
    this.metrics.batchEnvelopes.inc(envelopes.length);
  }

  /** Drains missed, slow-socket timeouts, and the backlog gauge, for every merged subscription. */
  private tick(): void {
    let maxBacklog = 0;
    let merged = 0;
    for (const channel of this.channels.values()) {
      for (const sub of channel.subs) {
        if (sub.mode !== 'merged') continue;
        merged += 1;
        maxBacklog = Math.max(maxBacklog, sub.backlogBytes());
        if (sub.undrainedMs() > this.options.slowSocketTimeoutMs) {
          this.metrics.slowDisconnects.inc();
          this.logger.warn(
            { socket: sub.socket.id, cluster: sub.cluster, undrainedMs: sub.undrainedMs() },
            'slow socket drained nothing for the timeout: disconnecting it',
          );
          sub.socket.disconnect(true);
          continue;
        }
        this.flush(sub);
      }
    }
    this.metrics.mergedSockets.set(merged);
    this.metrics.backlogBytesMax.set(maxBacklog);
  }

  private channel(cluster: ClusterName): ClusterChannel {
    let channel = this.channels.get(cluster);
    if (!channel) {
      const rate = this.options.liveRate ?? 20;
      const created: ClusterChannel = {
        log: undefined,
        held: undefined,
        subs: new Set(),
        flushing: new Set(),
        flushTimer: undefined,
        pacer: new LivePacer({ ratePerSecond: rate, burst: 2 * rate }, (run) => this.deliver(created, run)),
      };
      channel = created;
      this.channels.set(cluster, channel);
    }
    return channel;
  }

  private add(channel: ClusterChannel, sub: SocketSubscription): void {
    channel.subs.add(sub);
    let mine = this.bySocket.get(sub.socket.id);
    if (!mine) this.bySocket.set(sub.socket.id, (mine = new Map()));
    mine.set(sub.cluster, sub);
    void sub.socket.join(clusterRoom(sub.cluster));
    this.metrics.subscriptions.set({ cluster: sub.cluster }, channel.subs.size);
  }

  private remove(sub: SocketSubscription): void {
    const channel = this.channels.get(sub.cluster);
    const mine = this.bySocket.get(sub.socket.id);
    if (!channel || mine?.get(sub.cluster) !== sub) return;
    sub.end();
    mine.delete(sub.cluster);
    if (mine.size === 0) this.bySocket.delete(sub.socket.id);
    channel.subs.delete(sub);
    this.metrics.subscriptions.set({ cluster: sub.cluster }, channel.subs.size);
    void sub.socket.leave(clusterRoom(sub.cluster));
    channel.flushing.delete(sub);
    if (channel.subs.size === 0) {
      if (channel.flushTimer) clearTimeout(channel.flushTimer);
      channel.pacer.close();
      this.channels.delete(sub.cluster);
      void this.enqueue(sub.cluster, () => this.changes.unsubscribe(sub.cluster)).catch((err: unknown) =>
        this.logger.warn({ err, cluster: sub.cluster }, 'could not unsubscribe from the changes channel'),
      );
    }
  }

  /**
   * Makes sure this replica receives the cluster's changes and has its log: on the
   * first subscription, SUBSCRIBE, then read the cluster's seq (every envelope after
   * it is bound to arrive, since it was written after the subscription took effect):
   * the log starts there. Envelopes arriving meanwhile are held and added after.
   */
  private acquire(cluster: ClusterName, channel: ClusterChannel): Promise<void> {
    if (channel.log) return this.ops.get(cluster) ?? Promise.resolve();
    if (channel.held) return this.ops.get(cluster) ?? Promise.resolve();
    channel.held = [];
    return this.enqueue(cluster, async () => {
      try {
        await this.changes.subscribe(cluster);
        const summary = await this.reader.getCluster(cluster);
        const log = new ClusterLog(cluster, summary?.seq ?? 0);
        for (const envelope of channel.held ?? []) log.add(envelope);
        channel.log = log;
      } finally {
        channel.held = undefined;
      }
    });
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
