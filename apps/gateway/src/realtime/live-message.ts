import { EnvelopeFold, RealtimeEvents, type BatchMessage, type Envelope } from '@knm/contracts';
import { compressBatch, type CompressedBatch } from './batch-compression.js';
import { batchJsonLength, envelopesJson } from './envelopes-json.js';

/**
 * One paced run of live envelopes (see `LivePacer`), in the forms the live sockets
 * take it, each made once for all of them:
 * - plain: one envelope as its own event (`node_update`, `usage`, ...), or a run of
 *   them as a live `batch` (folded);
 * - compressed, for the sockets that asked for an `encoding`, when its JSON is at
 *   least `compressMinBytes`: the same as a live batch, deflated (made on first use).
 *
 * Why live messages are compressed too: a usage poll of 5,000 nodes is one envelope of
 * about 260 KB of JSON (60 KB deflated) every 15 s, and at churn 1,000/s the live
 * batches are tens of KB twenty times a second. Plain, the usage polls alone asked
 * more than a 16 KB/s link takes, so such a client never caught up with them; and a
 * crowd of clients is short of bytes a second first.
 */
export class LiveMessage {
  /** The seq the run starts after, and its last. */
  readonly fromSeq: number;
  readonly seq: number;
  /** The plain form: its event name and payload. */
  readonly event: string;
  readonly payload: Envelope | BatchMessage;
  /** The plain form's JSON size: what flow control counts for the sockets sent it. */
  readonly bytes: number;
  /** The live batch the compressed form is made of, and its envelopes' JSON. */
  private readonly batch: BatchMessage;
  private readonly json: string;
  private compressedForm: CompressedBatch | undefined;

  constructor(
    run: readonly Envelope[],
    private readonly compressMinBytes: number,
  ) {
    const first = run[0] as Envelope;
    const last = run[run.length - 1] as Envelope;
    this.fromSeq = first.seq - 1;
    this.seq = last.seq;
    let envelopes: Envelope[] = [...run];
    if (run.length > 1) {
      const fold = new EnvelopeFold(first.cluster, this.fromSeq);
      for (const envelope of run) fold.add(envelope);
      envelopes = fold.since(this.fromSeq);
    }
    this.batch = {
      type: 'batch',
      cluster: first.cluster,
      fromSeq: this.fromSeq,
      seq: this.seq,
      envelopes,
      live: true,
    };
    // Encoding a node snapshot now also serves the batches that carry it later (see envelopesJson).
    this.json = envelopesJson(envelopes);
    if (run.length === 1) {
      this.event = first.type;
      this.payload = first;
      this.bytes = this.json.length - 2;
    } else {
      this.event = RealtimeEvents.batch;
      this.payload = this.batch;
      this.bytes = batchJsonLength(this.batch, this.json);
    }
  }

  /** Whether a socket that asked for an encoding gets the compressed form. */
  get compressible(): boolean {
    return this.bytes >= this.compressMinBytes;
  }

  /** The compressed form (a live batch), made once. */
  compressed(): CompressedBatch {
    this.compressedForm ??= compressBatch(this.batch, this.json);
    return this.compressedForm;
  }

  /** How many envelopes the message carries. */
  get envelopes(): number {
    return this.batch.envelopes.length;
  }
}
