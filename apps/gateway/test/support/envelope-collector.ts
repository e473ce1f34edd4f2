import type { Socket } from 'socket.io-client';
import { EnvelopeSchema, RealtimeEvents, type Envelope } from '@knm/contracts';

/** Records every `envelope` event a socket receives, decoded, in arrival order. */
export class EnvelopeCollector {
  readonly envelopes: Envelope[] = [];

  constructor(socket: Socket) {
    socket.on(RealtimeEvents.envelope, (raw: unknown) => this.envelopes.push(EnvelopeSchema.parse(raw)));
  }

  /** Seqs of the non-resync envelopes of `cluster`. */
  seqs(cluster: string): number[] {
    return this.envelopes.filter((e) => e.cluster === cluster && e.type !== 'resync').map((e) => e.seq);
  }

  /** The resync envelopes received. */
  resyncs(): Envelope[] {
    return this.envelopes.filter((e) => e.type === 'resync');
  }
}

/** `from..to` inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
