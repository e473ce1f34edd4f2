import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import {
  EnvelopeFold,
  RealtimeEvents,
  type BatchEncoding,
  type BatchMessage,
  type ClusterName,
  type CompressedBatchMessage,
  type Envelope,
  type EnvelopeOf,
  type GatewayStats,
} from '@knm/contracts';
import type { ChangeSubscriber, NodeStoreReader } from '@knm/node-store';
import type { GatewayMetrics } from '../health/gateway-metrics.js';
import { ClusterLog } from './cluster-log.js';
import { LiveMessage } from './live-message.js';
import { LivePacer } from './live-pacer.js';
import { BatchBudget } from './batch-budget.js';
import { COMPRESS_MIN_BYTES, compressBatch, type CompressedBatch } from './batch-compression.js';
import { BatchParts } from './batch-parts.js';
import { batchJsonLength, envelopesJson } from './envelopes-json.js';
import { covers, type SharedBatch } from './shared-batches.js';
import { SocketSubscription, type DeliveryLimits } from './socket-subscription.js';

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
  /**
   * Bytes of batches this replica may have written to sockets that their clients have
   * not taken yet ({@link BatchBudget}). Default 64 MiB.
   */
  batchBudgetBytes?: number;
  /**
   * Folded batches whose JSON is at least this many bytes go compressed to the
   * subscriptions that asked for it. Default {@link COMPRESS_MIN_BYTES}.
   */
  compressMinBytes?: number;
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
  /** The read of the whole state under way, shared by every socket that needs it meanwhile. */
  wholeStateRead: Promise<SharedBatch> | undefined;
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
  private readonly budget: BatchBudget<SocketSubscription>;
  /** The budget's lapses already counted in the metric. */
  private lapsesCounted = 0;
  /** When stalls were last logged ({@link reportStalls}). */
  private stallsReportedAt = -Infinity;
  /**
   * Compressed bytes per plain byte of the batches compressed lately (a moving
   * average): what a batch not compressed yet will take on the wire, to tell whether
   * a socket's link takes it whole. Starts high (parts rather than a stalled socket) and learns.
   */
  private compressionRatio = 0.2;

  constructor(
    private readonly changes: ChangeSubscriber,
    private readonly reader: NodeStoreReader,
    private readonly options: ClusterFeedOptions,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
  ) {
    this.streamBatch = options.streamBatch ?? 1_000;
    this.budget = new BatchBudget(options.batchBudgetBytes ?? 64 * 1024 * 1024, (waiting) => {
      for (const sub of waiting) this.flush(sub);
    });
    changes.onEnvelope((e) => this.dispatch(e));
    this.ticker = setInterval(() => this.tick(), options.tickMs ?? 250);
    this.ticker.unref();
  }

  /**
   * Subscribes `socket` to `cluster` (replacing an earlier subscription of the same
   * socket and cluster) and resolves with the seq the gateway takes the client to be
   * at (what the ack says); nothing is written to the socket before the ack.
   * - Without `sinceSeq`: live from the cluster's current seq.
   * - With `sinceSeq` not above `currentSeq` (the cluster's seq, read before): it is
   *   at `sinceSeq`; one batch with everything after it follows the ack (none when
   *   nothing changed), through the shared batches and the budget, then live.
   * - With `sinceSeq` above `currentSeq`: the client comes from an earlier life of
   *   this Redis (it lost its data), so it is sent a `resync` (replay_unavailable).
   */
  async subscribe(
    socket: Socket,
    cluster: ClusterName,
    options: {
      sinceSeq?: number;
      maxRate?: number;
      encoding?: BatchEncoding;
      parts?: boolean;
      currentSeq: number;
      epoch: number;
    },
  ): Promise<number> {
    this.unsubscribe(socket, cluster);
    const channel = this.channel(cluster);
    const sub = new SocketSubscription(
      socket,
      cluster,
      options.sinceSeq ?? 0,
      options.maxRate,
      options.encoding,
      options.parts === true,
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
        // The resume batch follows the ack: however long it waits for the batch budget,
        // the client knows at once that it is subscribed (it never times out and asks again).
        sub.resume();
      }
      sub.place();
      if (!sub.ended) {
        if (sub.lastSeq >= log.latestSeq && options.maxRate === undefined) sub.caughtUp();
        else this.flush(sub);
      }
      return sub.lastSeq;
    } catch (err) {
      this.remove(sub);
      throw err;
    }
  }

  /** The client of `socket` applied `cluster` up to `seq`, or that `part` of the batch in parts up to `seq` (flow control). */
  ack(socket: Socket, cluster: ClusterName, seq: number, part?: number): void {
    this.bySocket.get(socket.id)?.get(cluster)?.ack(seq, part);
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
   * bound), then write to every admitted socket in ONE local broadcast per form
   * ({@link LiveMessage}: plain, or compressed for the sockets that asked when it is
   * large): the adapter encodes the packet (and its websocket frame) once and every
   * socket's write buffer shares it, where a per-socket emit would JSON-encode it once
   * per socket. Addressed by socket id (each socket is in the room named by its id),
   * not by the cluster room, so exactly the admitted sockets get it. `local`: the
   * Redis adapter neither publishes it nor expects other replicas to (each receives
   * the envelope from Redis itself).
   */
  private deliver(channel: ClusterChannel, run: readonly Envelope[]): void {
    const first = run[0] as Envelope;
    const last = run[run.length - 1] as Envelope;
    const admitted: SocketSubscription[] = [];
    for (const sub of channel.subs) if (sub.admit(first.seq - 1, last.seq)) admitted.push(sub);
    const nsp: Namespace | undefined = admitted[0]?.socket.nsp;
    if (!nsp) return;
    const message = new LiveMessage(run, this.options.compressMinBytes ?? COMPRESS_MIN_BYTES);
    const packed = message.compressible ? admitted.filter((s) => s.encoding) : [];
    const plain = packed.length > 0 ? admitted.filter((s) => !s.encoding) : admitted;
    if (plain.length > 0) {
      for (const sub of plain) sub.sent(message.seq, message.bytes);
      nsp.local.to(plain.map((s) => s.socket.id)).emit(message.event, message.payload);
      this.metrics.liveBytes.inc({ encoding: 'plain' }, message.bytes * plain.length);
      if (run.length === 1) this.metrics.envelopesSent.inc(plain.length);
      else this.countLiveBatches(message, plain.length);
    }
    if (packed.length > 0) {
      const compressed = message.compressed();
      for (const sub of packed) sub.sent(message.seq, compressed.bytes);
      nsp.local.to(packed.map((s) => s.socket.id)).emit(RealtimeEvents.batch, compressed.message);
      this.metrics.liveBytes.inc({ encoding: compressed.message.encoding }, compressed.bytes * packed.length);
      this.countLiveBatches(message, packed.length);
    }
  }

  private countLiveBatches(message: LiveMessage, sockets: number): void {
    this.metrics.batchesSent.inc({ reason: 'live' }, sockets);
    this.metrics.batchEnvelopes.inc(message.envelopes * sockets);
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
   * batch with everything after its seq. Readers the log covers share batches
   * ({@link SharedBatches}): lowest seq first, each reuses a batch built at the log's
   * latest seq that covers it closely enough, or builds one; one encoding and one local
   * broadcast per batch. The others (behind the log, or behind a resync) are read
   * from Redis ({@link sendFromRedis}). Every batch goes through the replica's
   * {@link BatchBudget}: a socket it does not admit waits, with nothing queued, until
   * budget frees up.
   */
  private flushRound(channel: ClusterChannel): void {
    const waiting = [...channel.flushing];
    channel.flushing.clear();
    const log = channel.log;
    if (!log || channel.held) {
      for (const sub of waiting) if (!sub.ended) this.flush(sub);
      return;
    }
    const fromLog: SocketSubscription[] = [];
    const fromRedis: SocketSubscription[] = [];
    const inParts: SocketSubscription[] = [];
    const groups = new Map<SharedBatch, SocketSubscription[]>();
    const join = (shared: SharedBatch, sub: SocketSubscription): void => {
      const group = groups.get(shared);
      if (group) group.push(sub);
      else groups.set(shared, [sub]);
    };
    for (const sub of waiting) {
      if (sub.ended || this.reading.has(sub) || !sub.readyForBatch()) continue;
      // Ready for a batch: whatever it was sent before has been taken.
      this.budget.release(sub);
      const resync = log.lastResync;
      if (resync && sub.lastSeq < resync.seq) {
        sub.sendResync(resync);
        continue;
      }
      if (sub.parts) {
        inParts.push(sub);
        continue;
      }
      if (sub.lastSeq < log.fold.base) {
        // It lacks at least what the log holds: a batch read for another socket may do.
        const kept = log.shared.find(log.latestSeq, sub.lastSeq, log.fold.touchedSince(log.fold.base));
        if (kept) join(kept, sub);
        else fromRedis.push(sub);
        continue;
      }
      if (sub.lastSeq >= log.latestSeq) {
        this.caughtUp(sub);
        continue;
      }
      fromLog.push(sub);
    }
    fromLog.sort((a, b) => a.lastSeq - b.lastSeq);
    for (const sub of fromLog) {
      const need = log.fold.touchedSince(sub.lastSeq);
      let shared = log.shared.find(log.latestSeq, sub.lastSeq, need);
      if (!shared) {
        shared = this.share(sub.cluster, sub.lastSeq, log.latestSeq, log.fold.since(sub.lastSeq));
        log.shared.put(log.latestSeq, shared);
      }
      join(shared, sub);
    }
    for (const [shared, subs] of groups) this.send(shared, subs);
    for (const sub of inParts) this.sendParts(sub);
    if (fromRedis.length > 0) {
      fromRedis.sort((a, b) => a.lastSeq - b.lastSeq);
      void this.sendFromRedis(fromRedis, channel).catch((err: unknown) =>
        this.logger.warn(
          { err, cluster: log.cluster, sockets: fromRedis.length },
          'could not read a batch from Redis; retrying',
        ),
      );
    }
  }

  /** Builds, encodes and measures a batch once, for every socket it will be sent to. */
  private share(cluster: ClusterName, fromSeq: number, seq: number, envelopes: Envelope[]): SharedBatch {
    const batch: BatchMessage = { type: 'batch', cluster, fromSeq, seq: Math.max(1, seq), envelopes };
    this.metrics.batchesBuilt.inc();
    const weight = fromSeq === 0 ? Infinity : keysOf(envelopes);
    const json = envelopesJson(envelopes);
    return { batch, bytes: batchJsonLength(batch, json), weight, json };
  }

  /**
   * Writes `shared` to those of `subs` the budget admits, in ONE local broadcast per
   * form (the packet is encoded once): compressed, built once, to the sockets that
   * asked for it when the batch is large enough; plain to the others. The budget
   * counts the plain size whatever the form: what bounds a crowd of clients catching
   * up is what each must decode (a compressed batch is inflated and parsed whole), and
   * a budget of compressed bytes let many times more sockets take a batch at once: in
   * the latency bench at 5,000 clients their event loops stalled, they missed pings
   * and reconnected (42,911 times against 13,377 with the plain size counted). The
   * sockets not admitted wait for budget. Each admitted socket is then at the batch's
   * seq; a merged one goes live if that caught it up. A socket whose link would take
   * the batch longer than a few seconds is sent it in parts instead ({@link sendParts}).
   */
  private send(shared: SharedBatch, allSubs: SocketSubscription[]): void {
    const subs: SocketSubscription[] = [];
    for (const sub of allSubs) {
      if (this.wireBytes(shared, sub) <= sub.partBytes()) {
        subs.push(sub);
        continue;
      }
      shared.parts ??= new BatchParts(shared.batch, PART_BYTES);
      sub.parts = { plan: shared.parts, next: 0 };
      this.sendParts(sub);
    }
    // Nothing to send whole: the batch keeps its JSON for the sockets that take it later.
    if (subs.length === 0) return;
    const wantCompressed =
      shared.bytes >= (this.options.compressMinBytes ?? COMPRESS_MIN_BYTES)
        ? subs.filter((s) => s.encoding)
        : [];
    const { json } = shared;
    shared.json = undefined;
    if (wantCompressed.length === 0) {
      this.write(shared, shared.batch, shared.bytes, subs);
      return;
    }
    const compressed = (shared.compressed ??= this.compress(shared.batch, shared.bytes, json));
    this.write(shared, compressed.message, compressed.bytes, wantCompressed);
    this.write(
      shared,
      shared.batch,
      shared.bytes,
      subs.filter((s) => !s.encoding),
    );
  }

  /** Writes `message` (`shared`'s batch in one form, `bytes` on the wire) to those of `subs` the budget admits. */
  private write(
    shared: SharedBatch,
    message: BatchMessage | CompressedBatchMessage,
    bytes: number,
    subs: SocketSubscription[],
  ): void {
    const admitted = this.budget.admit(subs, shared.bytes);
    if (admitted.length < subs.length) this.metrics.batchBudgetWaits.inc(subs.length - admitted.length);
    const first = admitted[0];
    if (!first) return;
    const { batch } = shared;
    for (const sub of admitted) {
      this.metrics.batchesSent.inc({ reason: batch.fromSeq === 0 ? 'full' : sub.batchReason() });
      sub.batchSent(batch.seq, bytes);
    }
    first.socket.nsp.local.to(admitted.map((s) => s.socket.id)).emit(RealtimeEvents.batch, message);
    this.metrics.batchBytes.inc(
      { encoding: 'encoding' in message ? message.encoding : 'plain' },
      bytes * admitted.length,
    );
    this.metrics.batchEnvelopes.inc(batch.envelopes.length * admitted.length);
    for (const sub of admitted) this.caughtUp(sub);
  }

  /** What `shared` would take on the wire to `sub` whole: compressed (or as much, estimated) when it asked for that. */
  private wireBytes(shared: SharedBatch, sub: SocketSubscription): number {
    if (!sub.encoding || shared.bytes < (this.options.compressMinBytes ?? COMPRESS_MIN_BYTES))
      return shared.bytes;
    return shared.compressed?.bytes ?? shared.bytes * this.compressionRatio;
  }

  /** `batch` (`bytes` of JSON `json`) compressed, with the ratio learnt for sizing parts. */
  private compress(batch: BatchMessage, bytes: number, json: string | undefined): CompressedBatch {
    const compressed = compressBatch(batch, json);
    this.compressionRatio = 0.7 * this.compressionRatio + 0.3 * (compressed.bytes / bytes);
    return compressed;
  }

  /**
   * Sends `sub` the next parts of its batch in parts ({@link BatchParts}): as many
   * as its link takes in about four seconds ({@link SocketSubscription.partBytes}), at
   * least one, each through the batch budget like any batch (a part refused waits).
   * Written to that socket alone, since the sockets in parts are each at their own
   * part, but each part is cut and compressed once for all of them. After the last
   * part the socket is at the batch's seq.
   */
  private sendParts(sub: SocketSubscription): void {
    const compressMin = this.options.compressMinBytes ?? COMPRESS_MIN_BYTES;
    const window = sub.partBytes();
    let written = 0;
    while (sub.parts) {
      const { plan, next } = sub.parts;
      const part = plan.part(next);
      if (!part) {
        sub.parts = undefined;
        break;
      }
      const compressed =
        sub.encoding && part.bytes >= compressMin
          ? (part.compressed ??= this.compress(part.batch, part.bytes, part.json))
          : undefined;
      if (compressed) part.json = undefined;
      const bytes = compressed?.bytes ?? part.bytes;
      if (written > 0 && written + bytes > window) break;
      if (this.budget.admit([sub], part.bytes).length === 0) {
        this.metrics.batchBudgetWaits.inc();
        break;
      }
      written += bytes;
      const { batch } = part;
      this.metrics.batchParts.inc();
      if (batch.more) {
        sub.parts = { plan, next: next + 1 };
        sub.partSent(batch.seq, next, bytes);
      } else {
        sub.parts = undefined;
        this.metrics.batchesSent.inc({ reason: batch.fromSeq === 0 ? 'full' : sub.batchReason() });
        sub.batchSent(batch.seq, bytes);
      }
      sub.socket.emit(RealtimeEvents.batch, compressed?.message ?? batch);
      this.metrics.batchBytes.inc({ encoding: compressed ? compressed.message.encoding : 'plain' }, bytes);
      this.metrics.batchEnvelopes.inc(batch.envelopes.length);
    }
    if (!sub.parts) this.caughtUp(sub);
  }

  /** Goes live if `sub` has everything and nothing waits in its buffers; live, it neither holds nor waits for budget. */
  private caughtUp(sub: SocketSubscription): void {
    sub.caughtUp();
    if (sub.mode === 'live') this.budget.forget(sub);
  }

  /**
   * Sockets behind what the log holds (sorted by seq, none behind the last `resync`),
   * served by ONE read: the events stream folded from the lowest seq up to where the
   * log starts, with the log on top, or the whole state when the stream no longer
   * reaches back ({@link wholeState}). Each socket the batch covers closely enough
   * (see {@link SharedBatches}) is sent it; the others ask again (the next round reads
   * from their own seq). A `resync` met in the stream goes to every socket behind it.
   */
  private async sendFromRedis(subs: SocketSubscription[], channel: ClusterChannel): Promise<void> {
    const first = subs[0] as SocketSubscription;
    for (const sub of subs) this.reading.add(sub);
    try {
      const read = await this.foldFromStream(first.cluster, first.lastSeq, channel);
      const log = channel.log as ClusterLog;
      if (read.kind === 'resync') {
        for (const sub of subs)
          if (!sub.ended && sub.lastSeq < read.envelope.seq) sub.sendResync(read.envelope);
        return;
      }
      const { shared } = read;
      if (shared.batch.seq === log.latestSeq) log.shared.put(log.latestSeq, shared);
      const covered = subs.filter((sub) => !sub.ended && covers(shared, sub.lastSeq, read.need(sub.lastSeq)));
      this.send(shared, covered);
    } finally {
      for (const sub of subs) this.reading.delete(sub);
    }
    // After a failed read the tick asks again (a few times a second), not at once.
    for (const sub of subs) if (!sub.ended && sub.mode === 'merged') this.flush(sub);
  }

  /**
   * The batch from `from`: the events stream folded up to where the log starts, then
   * the log on top (with how many keys a reader at a later seq lacks); the whole state
   * when the stream no longer reaches back; or the `resync` met in the stream.
   */
  private async foldFromStream(
    cluster: ClusterName,
    from: number,
    channel: ClusterChannel,
  ): Promise<
    | { kind: 'batch'; shared: SharedBatch; need: (afterSeq: number) => number }
    | { kind: 'resync'; envelope: EnvelopeOf<'resync'> }
  > {
    const fold = new EnvelopeFold(cluster, from);
    let cursor = from;
    let gap = false;
    for (;;) {
      const log = channel.log as ClusterLog;
      if (cursor >= log.fold.base) break;
      const page = await this.reader.readEventsAfter(cluster, cursor, this.streamBatch);
      if (page.status === 'gap') {
        gap = true;
        break;
      }
      for (const envelope of page.envelopes) {
        if (envelope.type === 'resync') return { kind: 'resync', envelope };
        fold.add(envelope);
      }
      if (page.envelopes.length === 0 || page.lastSeq === cursor) break;
      cursor = page.lastSeq;
    }
    const log = channel.log as ClusterLog;
    if (gap || cursor < log.fold.base) {
      return { kind: 'batch', shared: await this.wholeState(cluster, channel), need: () => Infinity };
    }
    for (const envelope of log.fold.since(cursor)) fold.add(envelope);
    const seq = Math.max(cursor, log.latestSeq);
    return {
      kind: 'batch',
      shared: this.share(cluster, from, seq, fold.since(from)),
      need: (afterSeq) => fold.touchedSince(afterSeq),
    };
  }

  /**
   * The whole state as one batch from 0 (the client clears its view first), with the
   * log on top. Shared: every socket that needs it while the log stays at one seq
   * gets the same batch, and sockets asking while it is being read wait for that read.
   */
  private wholeState(cluster: ClusterName, channel: ClusterChannel): Promise<SharedBatch> {
    const log = channel.log as ClusterLog;
    const kept = log.shared.find(log.latestSeq, 0, Infinity);
    if (kept) return Promise.resolve(kept);
    channel.wholeStateRead ??= this.readWholeState(cluster, channel).finally(() => {
      channel.wholeStateRead = undefined;
    });
    return channel.wholeStateRead;
  }

  private async readWholeState(cluster: ClusterName, channel: ClusterChannel): Promise<SharedBatch> {
    const [snapshot, summary] = await Promise.all([
      this.reader.getSnapshot(cluster),
      this.reader.getCluster(cluster),
    ]);
    const log = channel.log as ClusterLog;
    const timestamp = new Date().toISOString();
    const seq = Math.max(1, snapshot.seq);
    const envelopes: Envelope[] = snapshot.nodes.map((data) => ({
      type: 'node_add',
      cluster,
      node: data.name,
      seq,
      timestamp,
      data,
    }));
    envelopes.push({ type: 'pod_counts', cluster, seq, timestamp, data: { counts: snapshot.podCounts } });
    envelopes.push({ type: 'allocation', cluster, seq, timestamp, data: { nodes: snapshot.allocation } });
    if (snapshot.usage) envelopes.push({ type: 'usage', cluster, seq, timestamp, data: snapshot.usage });
    if (summary) {
      const status: EnvelopeOf<'cluster_status'> = {
        type: 'cluster_status',
        cluster,
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
    const shared = this.share(cluster, 0, onTop ? Math.max(seq, log.latestSeq) : seq, envelopes);
    if (onTop) log.shared.put(log.latestSeq, shared);
    return shared;
  }

  /** Drains missed, slow-socket timeouts, and the backlog gauge, for every merged subscription; stalls, for every one. */
  private tick(): void {
    let maxBacklog = 0;
    let merged = 0;
    let stalled = 0;
    let longest: Stall | undefined;
    for (const channel of this.channels.values()) {
      const latestSeq = channel.log?.latestSeq ?? 0;
      for (const sub of channel.subs) {
        // Live ones too: a live socket behind the log is a fault as much as a merged one.
        const stalledMs = sub.stalledMs(latestSeq);
        if (stalledMs > STALL_REPORT_MS) {
          stalled += 1;
          if (!longest || stalledMs > longest.stalledMs) longest = { sub, channel, stalledMs };
        }
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
    this.metrics.stalledSockets.set(stalled);
    if (longest) this.reportStalls(stalled, longest);
    this.metrics.backlogBytesMax.set(maxBacklog);
    this.metrics.batchBudgetHeld.set(this.budget.held);
    this.metrics.batchBudgetWaiting.set(this.budget.waitingCount);
    this.metrics.batchBudgetOldestWait.set((this.budget.head()?.waitedMs ?? 0) / 1000);
    this.metrics.batchBudgetLapses.inc(this.budget.lapses - this.lapsesCounted);
    this.lapsesCounted = this.budget.lapses;
  }

  /**
   * Logs, at most once per {@link STALL_LOG_INTERVAL_MS}, how many sockets are stalled
   * and where the longest stalled stands: its delivery state, whether its batch is
   * being read from Redis, its place in the batch budget's queue and the queue's head.
   * One line a period, not one per socket: an overload stalls thousands at once.
   */
  private reportStalls(stalled: number, { sub, channel, stalledMs }: Stall): void {
    const now = performance.now();
    if (now - this.stallsReportedAt < STALL_LOG_INTERVAL_MS) return;
    this.stallsReportedAt = now;
    const head = this.budget.head();
    this.logger.warn(
      {
        stalled,
        longest: {
          ...sub.describe(),
          stalledMs,
          latestSeq: channel.log?.latestSeq,
          logBase: channel.log?.fold.base,
          reading: this.reading.has(sub),
          flushing: channel.flushing.has(sub),
          channelHeld: channel.held !== undefined,
          budgetWait: this.budget.waiter(sub),
        },
        budget: {
          heldBytes: this.budget.held,
          waiting: this.budget.waitingCount,
          lapses: this.budget.lapses,
          head: head && { socket: head.key.socket.id, waitedMs: head.waitedMs, bytes: head.bytes },
        },
      },
      'sockets owed envelopes were written nothing for 30 s',
    );
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
        wholeStateRead: undefined,
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
    this.budget.forget(sub);
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

/**
 * The JSON size of a part of a batch in parts: compressed (kube-sim's node snapshots
 * deflate about 20 times) about 50 KiB, three seconds of a 16 KB/s link, so that a
 * slow socket is written a part or two at a time; a whole state of 5,000 nodes is a
 * dozen parts, each a write of its own to each socket. Plain, a part takes a minute
 * of such a link: a client on a slow link asks for compression.
 */
const PART_BYTES = 1024 * 1024;

/**
 * A socket owed envelopes and written nothing for this long is stalled (the gauge,
 * and the log's periodic line). Within it, a socket that drains gets a batch in a flush
 * window, or waits for budget a few seconds in a resume storm; one that does not drain
 * is disconnected by the slow-socket timeout (60 s) instead.
 */
const STALL_REPORT_MS = 30_000;

/** Stalls are logged at most this often (the gauge is sampled at every tick). */
const STALL_LOG_INTERVAL_MS = 10_000;

/** A stalled subscription, its cluster's channel, and for how long. */
interface Stall {
  sub: SocketSubscription;
  channel: ClusterChannel;
  stalledMs: number;
}

/** The keys a folded batch carries: one per node envelope, one per node in `pod_counts` and `allocation`. */
function keysOf(envelopes: readonly Envelope[]): number {
  let keys = 0;
  for (const e of envelopes) {
    if (e.type === 'pod_counts') keys += Object.keys(e.data.counts).length;
    else if (e.type === 'allocation') keys += Object.keys(e.data.nodes).length;
    else keys += 1;
  }
  return keys;
}
