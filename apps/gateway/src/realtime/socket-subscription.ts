import type { Socket } from 'socket.io';
import { RealtimeEvents, type ClusterName, type Envelope, type ResyncReason } from '@knm/contracts';
import { socketBacklog } from './socket-backlog.js';

/** Bounds on one socket's unsent backlog. */
export interface BacklogLimits {
  /** Past this many unsent messages the subscription ends with a `resync` (slow_consumer). Default 1,000. */
  maxBufferedMessages: number;
  /** Past this many unsent bytes, likewise. Default 8 MiB. Twice either bound disconnects the socket. */
  maxBufferedBytes: number;
}

/** What a subscription reports back to its owner. */
export interface SubscriptionEvents {
  sent(kind: 'live' | 'replay'): void;
  /** The subscription ended itself (slow consumer); `disconnected` when the socket was dropped too. */
  ended(subscription: SocketSubscription, reason: 'slow_consumer', disconnected: boolean): void;
}

/**
 * One socket's subscription to one cluster. It sends each envelope at most once and
 * in seq order: while `replaying`, live envelopes are held back; when it goes live,
 * those not newer than the last replayed one are dropped and the rest sent. Every
 * send checks the socket's backlog against {@link BacklogLimits}: past the bound the
 * socket is sent one `resync` (slow_consumer) and the subscription ends (the client
 * reloads and subscribes again); past twice the bound the socket is disconnected.
 */
export class SocketSubscription {
  private phase: 'replaying' | 'live' | 'ended' = 'replaying';
  private held: Envelope[] = [];
  /** Seq of the last envelope sent (or the position the client already has). */
  lastSeq: number;

  constructor(
    readonly socket: Socket,
    readonly cluster: ClusterName,
    sinceSeq: number,
    private readonly limits: BacklogLimits,
    private readonly events: SubscriptionEvents,
    private readonly epochOf: () => number,
  ) {
    this.lastSeq = sinceSeq;
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  get live(): boolean {
    return this.phase === 'live';
  }

  /**
   * A live envelope of this cluster (from Redis pub/sub), delivered by the owner in
   * ONE broadcast to every socket that admits it (encoded once, see `ClusterFeed`).
   * Returns true when this socket is to get it: live, it lacks it (seq > lastSeq) and
   * its backlog is within bounds; the envelope then counts as sent (lastSeq advances)
   * and the caller must write it before anything else reaches this socket. While
   * replaying, it is held back instead (sent by {@link goLive}); past the backlog
   * bound the slow-consumer path runs. Both return false.
   */
  admit(envelope: Envelope): boolean {
    if (this.phase === 'ended') return false;
    if (this.phase === 'replaying') {
      this.held.push(envelope);
      if (this.held.length > this.limits.maxBufferedMessages) this.slowConsumer();
      return false;
    }
    return this.claim(envelope);
  }

  /** An envelope read from the events stream during replay; returns false once the subscription ended. */
  replay(envelope: Envelope): boolean {
    if (this.phase === 'ended') return false;
    this.send(envelope, 'replay');
    return !this.ended;
  }

  /**
   * Ends the replay at `seq` (the last seq the client has been sent or already had),
   * sends the held live envelopes that are newer, and goes live.
   */
  goLive(seq: number): void {
    if (this.phase !== 'replaying') return;
    this.lastSeq = Math.max(this.lastSeq, seq);
    this.phase = 'live';
    const held = this.held;
    this.held = [];
    for (const e of held) {
      if (this.phase !== 'live') break;
      this.send(e, 'live');
    }
  }

  /** Holds live envelopes back again (a catch-up replay follows, then {@link goLive}). */
  hold(): void {
    if (this.phase === 'live') this.phase = 'replaying';
  }

  /** Sends a `resync` made by the gateway (not stored in the stream); its seq is the last known one. */
  sendResync(reason: ResyncReason, seq: number): void {
    const envelope: Envelope = {
      type: 'resync',
      cluster: this.cluster,
      seq: Math.max(1, seq),
      timestamp: new Date().toISOString(),
      data: { reason, epoch: this.epochOf() },
    };
    this.socket.emit(RealtimeEvents.envelope, envelope);
  }

  /** Stops sending (unsubscribe, disconnect, or replaced by a new subscribe). */
  end(): void {
    this.phase = 'ended';
    this.held = [];
  }

  private send(envelope: Envelope, kind: 'live' | 'replay'): void {
    if (!this.claim(envelope)) return;
    this.socket.emit(RealtimeEvents.envelope, envelope);
    this.events.sent(kind);
  }

  /** Whether `envelope` may be written to this socket now; if so it counts as sent. */
  private claim(envelope: Envelope): boolean {
    if (envelope.seq <= this.lastSeq) return false;
    const backlog = socketBacklog(this.socket);
    if (backlog.messages > this.limits.maxBufferedMessages || backlog.bytes > this.limits.maxBufferedBytes) {
      this.slowConsumer();
      return false;
    }
    this.lastSeq = envelope.seq;
    return true;
  }

  private slowConsumer(): void {
    if (this.phase === 'ended') return;
    const backlog = socketBacklog(this.socket);
    const hard =
      backlog.messages > 2 * this.limits.maxBufferedMessages ||
      backlog.bytes > 2 * this.limits.maxBufferedBytes;
    this.end();
    if (hard) {
      this.socket.disconnect(true);
    } else {
      this.sendResync('slow_consumer', this.lastSeq);
    }
    this.events.ended(this, 'slow_consumer', hard);
  }
}
