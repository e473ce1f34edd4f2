import type { Socket } from 'socket.io-client';
import {
  BatchMessageSchema,
  ENVELOPE_TYPES,
  EnvelopeSchema,
  RealtimeEvents,
  type BatchMessage,
  type Envelope,
  type NodeSnapshot,
} from '@knm/contracts';

/**
 * Records what a socket receives, decoded, in arrival order: every envelope event
 * (one per type name; the event name must equal the envelope's type) and every batch.
 * It also follows the position a client would be at per cluster (`at`), starting
 * from the `start` given for it, with the SDK's rules, and records every breach
 * (`violations`): an envelope that is not the next seq, a batch whose `fromSeq` is
 * past the position.
 */
export class EnvelopeCollector {
  readonly envelopes: Envelope[] = [];
  readonly batches: BatchMessage[] = [];
  /** Event names whose payload did not match them, and position breaches (must stay empty). */
  readonly violations: string[] = [];
  private readonly positions = new Map<string, number>();
  private readonly views = new Map<
    string,
    { nodes: Map<string, NodeSnapshot>; counts: Map<string, number> }
  >();

  constructor(socket: Socket, start: Record<string, number> = {}) {
    for (const [cluster, seq] of Object.entries(start)) this.positions.set(cluster, seq);
    for (const type of ENVELOPE_TYPES) {
      socket.on(type, (raw: unknown) => {
        const envelope = EnvelopeSchema.parse(raw);
        if (envelope.type !== type) this.violations.push(`${type} carried ${envelope.type}`);
        this.envelopes.push(envelope);
        if (envelope.type === 'resync') return;
        const at = this.positions.get(envelope.cluster);
        if (at !== undefined && envelope.seq !== at + 1) {
          this.violations.push(`${envelope.type} ${envelope.seq} at position ${at}`);
        }
        this.positions.set(envelope.cluster, envelope.seq);
        this.applyTo(envelope);
      });
    }
    socket.on(RealtimeEvents.batch, (raw: unknown) => {
      const batch = BatchMessageSchema.parse(raw);
      this.batches.push(batch);
      const at = this.positions.get(batch.cluster);
      if (batch.fromSeq !== 0 && at !== undefined && (at < batch.fromSeq || at >= batch.seq)) {
        this.violations.push(`batch ${batch.fromSeq}..${batch.seq} at position ${at}`);
      }
      this.positions.set(batch.cluster, batch.seq);
      if (batch.fromSeq === 0) this.views.delete(batch.cluster);
      for (const envelope of batch.envelopes) this.applyTo(envelope);
    });
  }

  /**
   * What a client that started with an empty view of `cluster` would hold now: the
   * nodes (by name) and non-zero pod counts from every envelope and batch received.
   */
  view(cluster: string): { nodes: Map<string, NodeSnapshot>; counts: Map<string, number> } {
    return this.views.get(cluster) ?? { nodes: new Map(), counts: new Map() };
  }

  private applyTo(envelope: Envelope): void {
    let view = this.views.get(envelope.cluster);
    if (!view) this.views.set(envelope.cluster, (view = { nodes: new Map(), counts: new Map() }));
    switch (envelope.type) {
      case 'node_add':
      case 'node_update':
        view.nodes.set(envelope.node, envelope.data);
        break;
      case 'node_delete':
        view.nodes.delete(envelope.node);
        break;
      case 'pod_counts':
        for (const [node, count] of Object.entries(envelope.data.counts)) {
          if (count > 0) view.counts.set(node, count);
          else view.counts.delete(node);
        }
        break;
      default:
        break;
    }
  }

  /** The seq a client of `cluster` would be at (undefined before anything arrived and without a start). */
  at(cluster: string): number | undefined {
    return this.positions.get(cluster);
  }

  /** Seqs of the non-resync envelopes of `cluster` received one by one. */
  seqs(cluster: string): number[] {
    return this.envelopes.filter((e) => e.cluster === cluster && e.type !== 'resync').map((e) => e.seq);
  }

  /** The resync envelopes received. */
  resyncs(): Envelope[] {
    return this.envelopes.filter((e) => e.type === 'resync');
  }

  /** Every envelope received, one by one or inside a batch, in arrival order. */
  all(): Envelope[] {
    return [...this.envelopes, ...this.batches.flatMap((b) => b.envelopes)];
  }
}

/** `from..to` inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
