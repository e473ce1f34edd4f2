import type { Socket } from 'socket.io';
import type { BatchEncoding, ClusterName, EnvelopeOf } from '@knm/contracts';
import type { BatchParts } from './batch-parts.js';
import { socketBacklog } from './socket-backlog.js';

/** When a socket leaves live delivery, and when it is given up. */
export interface DeliveryLimits {
  /** A live socket with more unsent messages than this switches to merged delivery. */
  maxBufferedMessages: number;
  /** A live socket with more unsent bytes than this switches to merged delivery. */
  maxBufferedBytes: number;
  /** A merged socket that drains nothing for this long is disconnected. */
  slowSocketTimeoutMs: number;
  /**
   * The least a live socket whose client acks may have sent but not acked before it
   * switches to merged delivery (network buffers in between can hold megabytes the
   * gateway's own buffers never see). The bound grows with the rate the client acks
   * at: about two seconds of its own throughput, at most `maxBufferedBytes`. Default 32 KiB.
   */
  maxUnackedBytes: number;
}

/** Why a batch was sent (a metric label). */
export type BatchReason = 'resume' | 'merged' | 'rate' | 'full' | 'live';

/**
 * How a subscription is delivered:
 * - `live`: each envelope as it comes, as its own event (one broadcast per envelope
 *   to every live socket, see `ClusterFeed`), or, while the cluster changes faster
 *   than the live pace, runs of them as live batches;
 * - `merged`: the socket fell behind (its backlog passed a bound, or it lacks
 *   envelopes), resumes, or asked for `maxRate`: each time its buffer has drained
 *   (and its rate allows) it gets ONE `batch` folding everything after its seq;
 *   once drained and caught up (without `maxRate`) it goes live again;
 * - `ended`: unsubscribed, replaced or disconnected.
 */
export type DeliveryMode = 'live' | 'merged' | 'ended';

/** What a subscription needs from its feed. */
export interface SubscriptionHost {
  /** The socket wants a batch now (it is merged, drained and its rate allows). */
  flush(subscription: SocketSubscription): void;
}

/**
 * One socket's subscription to one cluster: the seq the client is at (`lastSeq`:
 * everything up to it was sent) and how it is delivered ({@link DeliveryMode}). It
 * never sends an envelope twice or out of order, never drops one, and never asks the
 * client to reload because it was slow: a socket that falls behind gets folded
 * batches, so what the gateway holds for it is bounded by one batch (by the nodes
 * that changed, not by the events).
 */
export class SocketSubscription {
  private modeValue: DeliveryMode = 'merged';
  /** False until the feed has placed the client (its resume batch or its start seq): no batch before that. */
  private positioned = false;
  /** Seq of the last envelope sent (or the position the client already had); a batch in parts moves it at its last part. */
  lastSeq: number;
  /** When the last batch was sent (for `maxRate`). */
  private lastBatchAt = 0;
  /** Since when the socket has had an unsent backlog while merged (for the slow-socket timeout). */
  private undrainedSince: number | undefined;
  private rateTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly minIntervalMs: number;
  /** Where the client acked last; undefined while it has not acked (then nothing in flight is tracked). */
  private acked: AckMark | undefined;
  /** Sends not acked yet, oldest first: where they took the client, the bytes sent up to them, and when. */
  private readonly inFlight: (AckMark & { total: number; at: number })[] = [];
  /**
   * The batch this socket is being sent in parts (its link takes the whole in more
   * than a few seconds) and the next part it is owed: until its last part has
   * gone, it gets nothing else and `lastSeq` stays where the batch started.
   */
  parts: { plan: BatchParts; next: number } | undefined;
  /**
   * Bytes per second the link takes (moving average), once measured: from acks that
   * cover at least {@link LINK_SAMPLE_BYTES}, timed from the write of the oldest of
   * them. A few KB acked measure the round trip and the client's event loop, not the
   * link; and {@link ackRate} measures how fast the cluster changed as much as how
   * fast the client takes it.
   */
  private linkRate: number | undefined;
  private sentBytes = 0;
  private ackedBytes = 0;
  /** Bytes per second the client acks at (moving average), once measured. */
  private ackRate: number | undefined;
  private lastAckAt = 0;
  /** The next batch answers the client's resume (`sinceSeq`). */
  private resuming = false;
  /** When anything (a live message, a batch or a part) was last written to this socket. */
  private lastSentAt: number;
  private readonly onDrain = (): void => {
    this.undrainedSince = undefined;
    this.host.flush(this);
  };

  constructor(
    readonly socket: Socket,
    readonly cluster: ClusterName,
    sinceSeq: number,
    /** Batches per second at most; undefined = live whenever the socket keeps up. */
    readonly maxRate: number | undefined,
    /** How the client asked large batches to be compressed; undefined = plain. */
    readonly encoding: BatchEncoding | undefined,
    /** The client applies batches in parts and acks every batch and part (`subscribe`'s `parts`). */
    readonly takesParts: boolean,
    private readonly limits: DeliveryLimits,
    private readonly host: SubscriptionHost,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSeq = sinceSeq;
    this.lastSentAt = now();
    this.minIntervalMs = maxRate === undefined ? 0 : 1000 / maxRate;
    socket.conn.on('drain', this.onDrain);
  }

  get mode(): DeliveryMode {
    return this.modeValue;
  }

  get ended(): boolean {
    return this.modeValue === 'ended';
  }

  /**
   * A live message (from Redis pub/sub) covering the envelopes after `fromSeq` up to
   * `seq`: one envelope (`fromSeq` = its seq - 1) or a paced run of them, delivered by
   * the owner in ONE broadcast to every socket that admits it. True when this socket
   * is to get it now: it is live, exactly at `fromSeq`, and its backlog is within
   * bounds; it then counts as sent. Otherwise the socket switches to merged delivery
   * (unless it already has everything up to `seq`) and the envelopes reach it folded
   * in a batch.
   */
  admit(fromSeq: number, seq: number): boolean {
    if (this.modeValue !== 'live' || seq <= this.lastSeq) return false;
    if (this.lastSeq === fromSeq && this.withinBounds()) {
      this.lastSeq = seq;
      return true;
    }
    this.merge();
    return false;
  }

  /** Leaves live delivery: from now on the socket gets batches (the host is asked to flush). */
  merge(): void {
    if (this.modeValue !== 'live') return;
    this.modeValue = 'merged';
    this.host.flush(this);
  }

  /**
   * Whether a batch may be sent now: merged, the previous batch has drained (nothing
   * waits in the socket's buffers), and `maxRate` allows it (when it does not yet, a
   * flush is scheduled for then).
   */
  readyForBatch(): boolean {
    if (this.modeValue !== 'merged' || !this.positioned) return false;
    if (!this.tookEverything()) {
      this.undrainedSince ??= this.now();
      return false;
    }
    this.undrainedSince = undefined;
    const wait = this.lastBatchAt + this.minIntervalMs - this.now();
    if (wait > 0) {
      this.rateTimer ??= setTimeout(() => {
        this.rateTimer = undefined;
        this.host.flush(this);
      }, wait);
      return false;
    }
    return true;
  }

  /**
   * The feed knows where the client is (`lastSeq`): from now on it may be sent
   * batches. Until then a flush asked for by a drain or the feed's tick is ignored,
   * so nothing reaches the client before its subscription is answered, in order.
   */
  place(): void {
    this.positioned = true;
    // A client that takes parts acks every batch: flow control holds from here, so
    // that its resume batch is cut to its link too.
    if (this.takesParts && this.acked === undefined) {
      this.acked = { seq: this.lastSeq, part: WHOLE };
      this.lastAckAt = this.now();
    }
  }

  /** The client resumed with `sinceSeq`: its first batch (sent after the subscribe's ack) is its resume. */
  resume(): void {
    this.resuming = true;
  }

  /** Why the next batch goes to this socket (a metric label). */
  batchReason(): BatchReason {
    if (this.resuming) return 'resume';
    return this.maxRate === undefined ? 'merged' : 'rate';
  }

  /**
   * A batch up to `seq` of `bytes` (encoded) is being written to this socket (by the
   * feed, in one broadcast to every socket it covers). Call it before the write: the
   * position moves first because engine.io may emit `drain` synchronously inside the
   * write, which asks for the next batch at once.
   */
  batchSent(seq: number, bytes: number): void {
    this.resuming = false;
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.lastBatchAt = this.now();
    this.track(this.lastSeq, WHOLE, bytes);
  }

  /**
   * Part `part` of the batch in parts up to `seq`, not its last (that one is a
   * {@link batchSent}), of `bytes` on the wire, is being written to this socket; the
   * parts after those written together wait for their acks.
   */
  partSent(seq: number, part: number, bytes: number): void {
    this.lastBatchAt = this.now();
    this.track(seq, part, bytes);
  }

  /** A live message of `bytes` (encoded), up to `seq`, was written to the socket (after {@link admit}). */
  sent(seq: number, bytes: number): void {
    this.track(seq, WHOLE, bytes);
  }

  private track(seq: number, part: number, bytes: number): void {
    this.lastSentAt = this.now();
    if (this.acked === undefined) return;
    this.sentBytes += bytes;
    this.inFlight.push({ seq, part, total: this.sentBytes, at: this.now() });
  }

  /**
   * The client applied everything up to `seq`, or with `part` that part of the batch
   * in parts up to `seq`. The first ack turns flow control on for this socket. A
   * merged socket may get its next batch now. An ack of more than was sent counts
   * for what was sent; an old or repeated one is ignored.
   */
  ack(seq: number, part?: number): void {
    let mark: AckMark;
    if (part === undefined) mark = { seq: Math.min(seq, this.lastSeq), part: WHOLE };
    else if (this.parts?.plan.batch.seq === seq) mark = { seq, part };
    else return;
    if (this.acked !== undefined && !isAfter(mark, this.acked)) return;
    const first = this.acked === undefined;
    this.acked = mark;
    const before = this.ackedBytes;
    const oldest = this.inFlight[0];
    while (this.inFlight.length > 0 && !isAfter(this.inFlight[0] as AckMark, mark)) {
      this.ackedBytes = (this.inFlight.shift() as { total: number }).total;
    }
    if (this.inFlight.length === 0) this.ackedBytes = this.sentBytes;
    const now = this.now();
    if (!first && now > this.lastAckAt) {
      const rate = ((this.ackedBytes - before) * 1000) / (now - this.lastAckAt);
      this.ackRate = this.ackRate === undefined ? rate : 0.8 * this.ackRate + 0.2 * rate;
    }
    if (!first && oldest && this.ackedBytes - before >= LINK_SAMPLE_BYTES) {
      const sample = ((this.ackedBytes - before) * 1000) / Math.max(1, now - oldest.at);
      this.linkRate = this.linkRate === undefined ? sample : 0.5 * this.linkRate + 0.5 * sample;
    }
    this.lastAckAt = now;
    if (this.modeValue === 'merged') {
      this.undrainedSince = undefined;
      this.host.flush(this);
    }
  }

  /**
   * How much may be in flight to this client: about two seconds of the rate it acks
   * at (it acks every 250 ms, later when its event loop is busy), between
   * `maxUnackedBytes` and `maxBufferedBytes`. Until the rate is known: the upper
   * bound, or for a client that takes parts (its flow control holds from the
   * subscription) what it may be written as parts, so that a client on a slow link
   * is not written a megabyte of live envelopes before its first ack (a minute at
   * 16 KB/s, and a ping timeout). A fast client with a busy event loop stays live; a
   * slow link holds a couple of seconds of its own throughput, not minutes.
   */
  unackedWindow(): number {
    const { maxUnackedBytes, maxBufferedBytes } = this.limits;
    const ceiling = Math.max(maxUnackedBytes, maxBufferedBytes);
    if (this.ackRate === undefined) return this.takesParts ? Math.min(ceiling, this.partBytes()) : ceiling;
    return Math.min(ceiling, Math.max(maxUnackedBytes, 2 * this.ackRate));
  }

  /** Bytes sent that the client has not acked (0 for a client that does not ack). */
  unackedBytes(): number {
    return this.acked === undefined ? 0 : this.sentBytes - this.ackedBytes;
  }

  /**
   * The most this socket may be written at once as a batch or parts of one: what its
   * link takes in about four seconds ({@link linkRate}), at least `maxUnackedBytes`;
   * four times `maxUnackedBytes` until the rate is measured (the first parts of a
   * batch measure it). A larger batch goes in parts, as many at a time as fit, the
   * next ones once those are acked, so that Socket.IO's pings (20 s timeout) never
   * wait behind more than that. Unbounded for a client that did not ask for parts.
   */
  partBytes(): number {
    if (!this.takesParts) return Infinity;
    const { maxUnackedBytes } = this.limits;
    return Math.max(maxUnackedBytes, 4 * (this.linkRate ?? maxUnackedBytes));
  }

  /**
   * Called by the feed when a merged socket has nothing left to be sent: it goes live
   * again if it asked for no rate and its buffers are empty.
   */
  caughtUp(): void {
    if (this.modeValue !== 'merged' || this.maxRate !== undefined || this.parts) return;
    if (this.tookEverything()) this.modeValue = 'live';
  }

  /** Whether the client has taken everything written to it: nothing waits in the socket's buffers, nothing unacked. */
  private tookEverything(): boolean {
    if (this.unackedBytes() > 0) return false;
    const backlog = socketBacklog(this.socket);
    return backlog.messages === 0 && backlog.bytes === 0;
  }

  /** Sends a `resync` (from the stream, or made by the gateway): the client must reload. */
  sendResync(envelope: EnvelopeOf<'resync'>): void {
    this.parts = undefined;
    this.lastSeq = Math.max(this.lastSeq, envelope.seq);
    this.socket.emit(envelope.type, envelope);
  }

  /** How long a merged socket has held an unsent backlog without draining (0 when none). */
  undrainedMs(): number {
    return this.undrainedSince === undefined ? 0 : this.now() - this.undrainedSince;
  }

  /**
   * How long this socket has been owed envelopes (it is behind `latestSeq`, the
   * cluster's seq on this replica) with nothing written to it, beyond what its
   * `maxRate` asks to wait, while it has taken everything written to it: 0 when it is
   * not behind, was written to since, or has not taken what it was sent (a slow
   * client: the slow-socket timeout's). A socket that takes what it is sent gets its
   * next batch within a flush window: a long stall of one is a fault, and this is how
   * the feed sees it.
   */
  stalledMs(latestSeq: number): number {
    if (this.modeValue === 'ended' || this.lastSeq >= latestSeq) return 0;
    const ms = this.now() - this.lastSentAt - this.minIntervalMs;
    return ms > 0 && this.tookEverything() ? ms : 0;
  }

  /** Where delivery to this socket stands, for a log line about it. */
  describe(): Record<string, unknown> {
    const backlog = socketBacklog(this.socket);
    return {
      socket: this.socket.id,
      cluster: this.cluster,
      mode: this.modeValue,
      positioned: this.positioned,
      lastSeq: this.lastSeq,
      parts: this.parts ? { seq: this.parts.plan.batch.seq, next: this.parts.next } : undefined,
      unackedBytes: this.unackedBytes(),
      backlogMessages: backlog.messages,
      backlogBytes: backlog.bytes,
      undrainedMs: this.undrainedMs(),
      connected: this.socket.connected,
    };
  }

  /** Bytes waiting for this socket now. */
  backlogBytes(): number {
    return socketBacklog(this.socket).bytes;
  }

  /** Stops sending (unsubscribe, disconnect, or replaced by a new subscribe). */
  end(): void {
    this.modeValue = 'ended';
    this.parts = undefined;
    if (this.rateTimer) clearTimeout(this.rateTimer);
    this.rateTimer = undefined;
    this.socket.conn.off('drain', this.onDrain);
  }

  private withinBounds(): boolean {
    if (this.unackedBytes() > this.unackedWindow()) return false;
    const backlog = socketBacklog(this.socket);
    return (
      backlog.messages <= this.limits.maxBufferedMessages && backlog.bytes <= this.limits.maxBufferedBytes
    );
  }
}

/** The least an ack must cover to measure the link ({@link SocketSubscription}'s `linkRate`). */
const LINK_SAMPLE_BYTES = 64 * 1024;

/** Where a client is by its acks: a seq, or a part of the batch in parts up to a seq. */
interface AckMark {
  seq: number;
  /** The part of the batch up to `seq`; {@link WHOLE} for all of it (everything up to `seq`). */
  part: number;
}

/** The part of an {@link AckMark} that stands for the whole batch: after every part of it. */
const WHOLE = Infinity;

/** Whether `a` is further than `b`: a higher seq, or a later part of the same batch (the whole of it last). */
function isAfter(a: AckMark, b: AckMark): boolean {
  return a.seq > b.seq || (a.seq === b.seq && a.part > b.part);
}
