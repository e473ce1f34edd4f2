import { io, type Socket } from 'socket.io-client';
import {
  ENVELOPE_TYPES,
  REALTIME_NAMESPACE,
  RealtimeEvents,
  SubscribeAckSchema,
  type SubscribeAck,
} from '@knm/contracts';
import type { ReconnectBackoff } from '@knm/client';
import { CompactView, type CompactSnapshot, type NodeSlots } from './compact-view.js';
import { sharedParser } from './shared-decoder.js';
import { inflatedJson } from './shared-inflate.js';
import type { ApplyPlans } from './apply-plans.js';
import type { AllocationLike, UsageLike, UsagePoll } from './usage-poll.js';

/** Counters of one fleet client (summed per process in {@link FleetProcessStats}). */
export interface FleetClientCounters {
  /** Envelopes received (before the seq check). */
  received: number;
  /** Envelopes applied (each seq exactly once). */
  applied: number;
  /** Envelopes received again and ignored (seq not above the view's). */
  duplicates: number;
  /** Missing envelopes detected while live (each caused a reload). */
  gaps: number;
  /** REST snapshot reloads after the initial load (gap or resync). */
  reloads: number;
  /** Folded batches applied (resumes, merged delivery). */
  batches: number;
  /** Batches that carried the whole state (the stream no longer reached back). */
  wholeStateBatches: number;
  /** Parts of batches in parts applied, but their last (which counts as the batch). */
  parts: number;
  /** Batch messages (whole batches and parts) that came compressed (`encoding`), of those applied. */
  compressedBatches: number;
  /** Re-subscriptions from the view's seq after a reconnect (no reload). */
  resumes: number;
  /** Connections opened after the first one. */
  reconnects: number;
  /** Connect errors, refused subscriptions, failed snapshot reads, malformed envelopes. */
  errors: number;
}

/** Every counter at 0: a client's start, and the sum a worker adds its clients into. */
export function zeroCounters(): FleetClientCounters {
  return {
    received: 0,
    applied: 0,
    duplicates: 0,
    gaps: 0,
    reloads: 0,
    batches: 0,
    wholeStateBatches: 0,
    parts: 0,
    compressedBatches: 0,
    resumes: 0,
    reconnects: 0,
    errors: 0,
  };
}

/** What a fleet client needs from its process. */
export interface FleetClientHost {
  readonly slots: NodeSlots;
  /** What shared decoded envelopes set in a view, worked out once per process. */
  readonly plans: ApplyPlans;
  readonly backoff: ReconnectBackoff;
  readonly token: string;
  readonly cluster: string;
  readonly probeLabel: string;
  /** The snapshot of the cluster from `url` (reads are shared by the clients of a process). */
  snapshot(url: string): Promise<CompactSnapshot>;
  /** The process's shared poll of a `usage` envelope's data. */
  usagePoll(usage: UsageLike): UsagePoll;
  /**
   * Client `client` (its fleet-wide index) saw `node`'s probe label change, live, to
   * `sentAt` (the label's value: the probe's send time) at `at` (both ms since the epoch).
   */
  onProbe(client: number, node: string, sentAt: number, at: number): void;
  /** The client's last error, for diagnosis. */
  onError(err: Error): void;
}

/** Where a fleet client is: connecting, loading its snapshot, subscribing, live, waiting to reconnect, closed. */
export type ClientState = 'connecting' | 'loading' | 'subscribing' | 'live' | 'waiting' | 'closed';

interface EnvelopeLike {
  type: string;
  seq: number;
  cluster: string;
  node?: string;
  data?: UsageLike & {
    resourceVersion?: unknown;
    labels?: Record<string, unknown>;
    counts?: Record<string, unknown>;
    reason?: unknown;
    nodes?: Record<string, AllocationLike>;
  };
}

interface BatchLike {
  cluster: string;
  fromSeq: number;
  seq: number;
  envelopes: unknown[];
  live?: boolean;
  part?: number;
  more?: boolean;
}

const GATEWAY_RESYNCS = new Set(['replay_unavailable']);

/** A `batch` event's payload; a compressed one (`encoding`, binary `data`) inflated. */
function asBatch(raw: unknown): BatchLike | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const b = raw as Partial<BatchLike> & { encoding?: unknown; data?: unknown };
  if (b.encoding !== undefined) {
    if (b.encoding !== 'deflate' || !(b.data instanceof Uint8Array)) return undefined;
    b.envelopes = inflatedJson(b.data) as unknown[];
  }
  if (
    typeof b.cluster !== 'string' ||
    typeof b.fromSeq !== 'number' ||
    typeof b.seq !== 'number' ||
    !Array.isArray(b.envelopes)
  )
    return undefined;
  return b as BatchLike;
}

function asEnvelope(raw: unknown): EnvelopeLike | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Partial<EnvelopeLike>;
  if (typeof e.type !== 'string' || typeof e.seq !== 'number' || typeof e.cluster !== 'string')
    return undefined;
  return e as EnvelopeLike;
}

/**
 * One Socket.IO client of the fleet: the SDK's `ClusterWatch` protocol (load the
 * snapshot over REST with its seq, subscribe with `sinceSeq`, apply each envelope
 * exactly once in seq order, reload on a live gap or a resync, and after a
 * reconnect to the next gateway resume from the view's seq) on a
 * {@link CompactView} instead of full node snapshots, so that thousands of clients
 * of a 5,000-node cluster fit in one machine. Envelopes are checked for the fields
 * it reads, not decoded with the zod schema (the gateway already encodes them from
 * the contract).
 */
export class FleetClient {
  readonly view: CompactView;
  readonly counters: FleetClientCounters = zeroCounters();
  /** Why this client's connections ended or failed to open, by Socket.IO's reason (`connect error` for a failed open). */
  readonly disconnects = new Map<string, number>();
  state: ClientState = 'connecting';
  private socket: Socket | undefined;
  private urlIndex: number;
  private attempts = 0;
  private opened = 0;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly probes = new Map<string, string>();
  /** When the last envelope or batch reached this client (`performance.now()`), or its start. */
  private lastMessageAt = performance.now();
  private liveResolve: (() => void) | undefined;
  /** Settles the first time the client is live. */
  readonly live: Promise<void>;

  constructor(
    private readonly host: FleetClientHost,
    private readonly urls: readonly string[],
    /** Fleet-wide index of this client: it starts on `urls[index % urls.length]`. */
    readonly index: number,
  ) {
    this.view = new CompactView(host.slots);
    this.urlIndex = index % urls.length;
    this.live = new Promise((r) => (this.liveResolve = r));
    this.open();
  }

  /** The id of the client's socket while it has one (what the gateway's log lines name it by). */
  get socketId(): string | undefined {
    return this.socket?.id;
  }

  /** Milliseconds since the last envelope or batch reached this client. */
  get quietMs(): number {
    return performance.now() - this.lastMessageAt;
  }

  get url(): string {
    return this.urls[this.urlIndex] as string;
  }

  close(): void {
    this.state = 'closed';
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.dropSocket();
  }

  private open(): void {
    if (this.state === 'closed') return;
    if (this.opened++ > 0) this.counters.reconnects += 1;
    this.state = 'connecting';
    const socket = io(`${this.url}${REALTIME_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      parser: sharedParser,
      auth: { token: this.host.token },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.attempts = 0;
      if (this.view.loaded) void this.resume();
      else void this.reload('initial');
    });
    for (const type of ENVELOPE_TYPES) socket.on(type, (raw: unknown) => this.onEnvelope(raw));
    socket.on(RealtimeEvents.batch, (raw: unknown) => this.onBatch(raw));
    socket.on('connect_error', (err) => {
      this.fail(err);
      this.countDisconnect('connect error');
      this.reconnect();
    });
    socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return;
      this.countDisconnect(reason);
      this.reconnect();
    });
  }

  private countDisconnect(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }

  private reconnect(): void {
    if (this.state === 'closed' || this.timer) return;
    this.dropSocket();
    this.generation += 1;
    this.state = 'waiting';
    this.attempts += 1;
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.host.backoff.delayMs(this.attempts));
  }

  private async reload(reason: string): Promise<void> {
    const generation = ++this.generation;
    if (reason !== 'initial') this.counters.reloads += 1;
    this.state = 'loading';
    let snapshot: CompactSnapshot;
    try {
      snapshot = await this.host.snapshot(this.url);
    } catch (err) {
      if (generation !== this.generation) return;
      this.fail(err as Error);
      this.retry(generation, () => this.reload(reason));
      return;
    }
    if (generation !== this.generation) return;
    this.view.load(snapshot);
    await this.subscribe(generation);
  }

  private async resume(): Promise<void> {
    const generation = ++this.generation;
    this.counters.resumes += 1;
    await this.subscribe(generation);
  }

  private async subscribe(generation: number): Promise<void> {
    const socket = this.socket;
    if (!socket?.connected) return;
    this.state = 'subscribing';
    let ack: SubscribeAck;
    try {
      const raw: unknown = await socket.timeout(10_000).emitWithAck(RealtimeEvents.subscribe, {
        cluster: this.host.cluster,
        sinceSeq: this.view.seq,
        encoding: 'deflate',
        parts: true,
      });
      ack = SubscribeAckSchema.parse(raw);
    } catch (err) {
      if (generation !== this.generation) return;
      this.fail(err as Error);
      this.retry(generation, () => this.resume());
      return;
    }
    if (generation !== this.generation) return;
    if (!ack.ok) {
      this.fail(new Error(`subscribe refused: ${ack.error.code}: ${ack.error.message}`));
      this.retry(generation, () => this.reload('retry'));
      return;
    }
    this.state = 'live';
    this.liveResolve?.();
    this.liveResolve = undefined;
  }

  private retry(generation: number, again: () => Promise<void>): void {
    this.state = 'waiting';
    this.attempts += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (generation === this.generation && this.socket?.connected) void again();
    }, this.host.backoff.delayMs(this.attempts));
  }

  private onEnvelope(raw: unknown): void {
    if (this.state !== 'live' && this.state !== 'subscribing') return;
    const envelope = asEnvelope(raw);
    if (!envelope || envelope.cluster !== this.host.cluster) {
      if (!envelope) this.fail(new Error('dropped a malformed envelope'));
      return;
    }
    this.counters.received += 1;
    this.lastMessageAt = performance.now();
    const view = this.view;
    if (envelope.type === 'resync') {
      const reason = String(envelope.data?.reason);
      if (!GATEWAY_RESYNCS.has(reason) && envelope.seq <= view.seq) {
        this.counters.duplicates += 1;
        return;
      }
      void this.reload(reason);
      return;
    }
    if (envelope.seq <= view.seq) {
      this.counters.duplicates += 1;
      return;
    }
    if (envelope.seq !== view.seq + 1) {
      // While subscribing, the replay that follows fills it; only a live gap means loss.
      if (this.state === 'live') {
        this.counters.gaps += 1;
        void this.reload('gap');
      }
      return;
    }
    this.apply(envelope);
    view.seq = envelope.seq;
    this.counters.applied += 1;
    this.scheduleAck();
  }

  /** A folded batch: the SDK's `ClusterView.applyBatch` rules on the compact view. */
  private onBatch(raw: unknown): void {
    if (this.state !== 'live' && this.state !== 'subscribing') return;
    const batch = asBatch(raw);
    if (!batch || batch.cluster !== this.host.cluster) {
      if (!batch) this.fail(new Error('dropped a malformed batch'));
      return;
    }
    this.counters.received += 1;
    this.lastMessageAt = performance.now();
    const view = this.view;
    const last = batch.more !== true;
    if (batch.fromSeq === 0) {
      // A whole state in parts is cleared before part 0 and is at 0 until its last part.
      if ((batch.part ?? 0) === 0) view.load({ seq: 0, nodes: [] });
      if (last) this.counters.wholeStateBatches += 1;
    } else if (batch.seq <= view.seq) {
      this.counters.duplicates += 1;
      return;
    } else if (view.seq < batch.fromSeq) {
      if (this.state === 'live') {
        this.counters.gaps += 1;
        void this.reload('gap');
      }
      return;
    }
    for (const item of batch.envelopes) {
      const envelope = asEnvelope(item);
      if (envelope) this.apply(envelope);
    }
    if ((raw as { encoding?: unknown }).encoding !== undefined) this.counters.compressedBatches += 1;
    this.counters.applied += batch.envelopes.length;
    if (!last) {
      // A part: the view stays where it was until the last one; each part is acked at once.
      this.counters.parts += 1;
      this.socket?.emit(RealtimeEvents.ack, {
        cluster: this.host.cluster,
        seq: batch.seq,
        part: batch.part ?? 0,
      });
      return;
    }
    view.seq = batch.seq;
    this.counters.batches += 1;
    // A live batch is a run of live envelopes: acked like them (the gateway does not wait for it).
    if (batch.live === true) this.scheduleAck();
    else this.ack();
  }

  /** Tells the gateway what the view applied (flow control: the SDK's rule, live envelopes every 250 ms). */
  private ack(): void {
    this.socket?.emit(RealtimeEvents.ack, { cluster: this.host.cluster, seq: this.view.seq });
  }

  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      if (this.state === 'live' || this.state === 'subscribing') this.ack();
    }, 250);
  }

  private apply(envelope: EnvelopeLike): void {
    const { view, host } = this;
    switch (envelope.type) {
      case 'node_add':
      case 'node_update': {
        const name = envelope.node ?? '';
        const { slot, resourceVersion, probe } = host.plans.node(name, envelope.data);
        view.setRv(slot, resourceVersion);
        // Only live changes: a replay while subscribing may carry a probe sent long ago.
        if (probe !== undefined && this.probes.get(name) !== probe) {
          this.probes.set(name, probe);
          if (this.state === 'live')
            host.onProbe(this.index, name, Number(probe), performance.timeOrigin + performance.now());
        }
        return;
      }
      case 'node_delete':
        view.deleteNode(host.slots.slot(envelope.node ?? ''));
        return;
      case 'pod_counts': {
        const { slots, values } = host.plans.podCounts(envelope.data?.counts ?? {});
        for (let i = 0; i < slots.length; i++) view.setCount(slots[i] as number, values[i] as number);
        return;
      }
      case 'allocation': {
        const { slots, values } = host.plans.allocation(envelope.data?.nodes ?? {});
        for (let i = 0; i < slots.length; i++) view.setAllocation(slots[i] as number, values[i] as number);
        return;
      }
      case 'usage':
        if (envelope.data) view.usage = host.usagePoll(envelope.data);
        return;
      default:
        return;
    }
  }

  private fail(err: Error): void {
    this.counters.errors += 1;
    this.host.onError(err);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    socket.removeAllListeners();
    socket.disconnect();
  }
}
