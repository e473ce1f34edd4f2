import type { BatchMessage, Envelope, EnvelopeOf } from '@knm/contracts';
import type { CompressedBatch } from './batch-compression.js';
import { batchJsonLength, envelopeJson } from './envelopes-json.js';

/** One part of a batch in parts, cut once for every socket that takes the batch in parts. */
export interface BatchPart {
  batch: BatchMessage;
  /** Its JSON size: what flow control and the batch budget count. */
  bytes: number;
  /** Its envelopes' JSON until it is compressed (then dropped: the compressed form is kept). */
  json?: string;
  /** The part compressed, once a socket that asked for it is sent it. */
  compressed?: CompressedBatch;
}

/** The envelopes that carry one entry per node: cut between nodes when they do not fit in a part. */
type MapEnvelope = EnvelopeOf<'pod_counts'> | EnvelopeOf<'allocation'>;

function isMapEnvelope(envelope: Envelope): envelope is MapEnvelope {
  return envelope.type === 'pod_counts' || envelope.type === 'allocation';
}

function entriesOf(envelope: MapEnvelope): [string, unknown][] {
  return Object.entries(envelope.type === 'pod_counts' ? envelope.data.counts : envelope.data.nodes);
}

/** `envelope` with only `entries` of its map. */
function withEntries(envelope: MapEnvelope, entries: [string, unknown][]): MapEnvelope {
  const map = Object.fromEntries(entries);
  return envelope.type === 'pod_counts'
    ? { ...envelope, data: { counts: map as EnvelopeOf<'pod_counts'>['data']['counts'] } }
    : { ...envelope, data: { nodes: map as EnvelopeOf<'allocation'>['data']['nodes'] } };
}

/**
 * A folded batch cut into parts ({@link BatchMessage}'s `part` and `more`) of about
 * `partBytes` of JSON each, for the sockets whose link would take the batch whole
 * longer than a few seconds. The parts are the same for every such socket (a
 * shared batch has one plan): each is cut once, on first use and in order, and
 * compressed once; a socket takes as many consecutive parts at a time as its link
 * takes in a few seconds. Cut per socket instead, every socket catching up
 * after an overload would cost a compression of its own.
 *
 * Node envelopes, `usage` and `cluster_status` go whole; `pod_counts` and `allocation`
 * (one entry per node: the allocation of 5,000 nodes is most of a megabyte) are cut
 * between nodes, each piece a valid envelope of the same kind, since a client applies
 * them entry by entry. Every part carries at least one envelope or entry.
 */
export class BatchParts {
  private readonly parts: BatchPart[] = [];
  /** The next envelope to cut. */
  private at = 0;
  /** The entries of the map envelope at `at` while it is being cut, and how many of them went already. */
  private entries: [string, unknown][] | undefined;
  private entriesSent = 0;

  constructor(
    readonly batch: BatchMessage,
    private readonly partBytes: number,
  ) {}

  /** Part `index`, cut now if it was not yet (with those before it); undefined past the last. */
  part(index: number): BatchPart | undefined {
    while (this.parts.length <= index && this.at < this.batch.envelopes.length) this.parts.push(this.cut());
    return this.parts[index];
  }

  private cut(): BatchPart {
    const maxBytes = this.partBytes;
    const { envelopes } = this.batch;
    const taken: Envelope[] = [];
    const texts: string[] = [];
    // The array's brackets, then each envelope and its comma.
    let size = 2;
    const take = (envelope: Envelope, json: string): void => {
      taken.push(envelope);
      texts.push(json);
      size += json.length + 1;
    };
    while (this.at < envelopes.length) {
      const envelope = envelopes[this.at] as Envelope;
      if (this.entries === undefined) {
        const json = envelopeJson(envelope);
        if (taken.length === 0 || size + json.length + 1 <= maxBytes) {
          take(envelope, json);
          this.at += 1;
          continue;
        }
        if (!isMapEnvelope(envelope)) break;
        const entries = entriesOf(envelope);
        // One entry is no smaller cut: it goes whole in the next part.
        if (entries.length < 2) break;
        this.entries = entries;
        this.entriesSent = 0;
      }
      const piece = this.cutEntries(envelope as MapEnvelope, maxBytes - size, taken.length === 0);
      if (!piece) break;
      take(piece.envelope, piece.json);
      if (this.entriesSent < this.entries.length) break;
      this.entries = undefined;
      this.at += 1;
    }
    const batch: BatchMessage = {
      type: 'batch',
      cluster: this.batch.cluster,
      fromSeq: this.batch.fromSeq,
      seq: this.batch.seq,
      envelopes: taken,
      part: this.parts.length,
    };
    if (this.at < envelopes.length) batch.more = true;
    const json = `[${texts.join(',')}]`;
    return { batch, json, bytes: batchJsonLength(batch, json) };
  }

  /**
   * The next entries of the map envelope being cut that fit in `room` bytes (at least
   * one when `first`: the part has nothing else), as an envelope; undefined when none fits.
   */
  private cutEntries(
    envelope: MapEnvelope,
    room: number,
    first: boolean,
  ): { envelope: Envelope; json: string } | undefined {
    const entries = this.entries as [string, unknown][];
    const empty = envelopeJson(withEntries(envelope, []));
    let size = empty.length + 1;
    let end = this.entriesSent;
    while (end < entries.length) {
      const [key, value] = entries[end] as [string, unknown];
      const entry = JSON.stringify(key).length + 1 + JSON.stringify(value).length + 1;
      if (size + entry > room && !(first && end === this.entriesSent)) break;
      size += entry;
      end += 1;
    }
    if (end === this.entriesSent) return undefined;
    const piece = withEntries(envelope, entries.slice(this.entriesSent, end));
    this.entriesSent = end;
    return { envelope: piece, json: envelopeJson(piece) };
  }
}
