import type { Socket } from 'socket.io-client';
import {
  BatchMessageSchema,
  ENVELOPE_TYPES,
  EnvelopeSchema,
  RealtimeEvents,
  type BatchMessage,
  type Envelope,
} from '@knm/contracts';

/**
 * Records what a socket receives, decoded, in arrival order: every envelope event
 * (one per type name; the event name must equal the envelope's type) and every batch.
 */
export class EnvelopeCollector {
  readonly envelopes: Envelope[] = [];
  readonly batches: BatchMessage[] = [];
  /** Event names whose payload did not match them (must stay empty). */
  readonly mismatched: string[] = [];

  constructor(socket: Socket) {
    for (const type of ENVELOPE_TYPES) {
      socket.on(type, (raw: unknown) => {
        const envelope = EnvelopeSchema.parse(raw);
        if (envelope.type !== type) this.mismatched.push(`${type} carried ${envelope.type}`);
        this.envelopes.push(envelope);
      });
    }
    socket.on(RealtimeEvents.batch, (raw: unknown) => this.batches.push(BatchMessageSchema.parse(raw)));
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
