import { deflateRawSync } from 'node:zlib';
import type { BatchMessage, CompressedBatchMessage } from '@knm/contracts';
import { envelopesJson } from './envelopes-json.js';

/**
 * Batches whose JSON is smaller than this go plain even to a subscription that asked
 * for an encoding: a few node changes gain little from compression and would cost a
 * binary attachment and an inflate on the client.
 */
export const COMPRESS_MIN_BYTES = 16 * 1024;

/** A batch compressed once, for every socket that asked for it. */
export interface CompressedBatch {
  message: CompressedBatchMessage;
  /** What it costs on the wire (its `data` and a header): flow control counts it (the batch budget counts the plain size). */
  bytes: number;
}

/** Bytes a compressed batch's fields other than `data` take on the wire, about. */
const HEADER_BYTES = 128;

/**
 * `batch` compressed ({@link CompressedBatchMessage}): its envelopes' JSON, raw
 * DEFLATE at zlib's default level. `json` is that JSON when the caller has it
 * ({@link envelopesJson}). Synchronous on purpose: it runs once per shared batch
 * (kube-sim's 5,000-node whole state, 10.7 MB of JSON, to 0.5 MB (21x) in about 65
 * ms on the bench machine), and the socket's position must move in the same turn as
 * the write. The default level, not a faster one: level 3 took 27 ms where it took
 * 65 on a 10 MB batch, for 28% more bytes, and bytes a second are what a crowd of
 * clients catching up is short of (the latency bench's run with level 3 had 13,855
 * reconnects of starved clients at 5,000 clients, the run before it 1,987: one run
 * each, so a hint rather than a proof).
 */
export function compressBatch(
  batch: BatchMessage,
  json: string = envelopesJson(batch.envelopes),
): CompressedBatch {
  const data = deflateRawSync(json);
  const message: CompressedBatchMessage = {
    type: 'batch',
    cluster: batch.cluster,
    fromSeq: batch.fromSeq,
    seq: batch.seq,
    encoding: 'deflate',
    data,
  };
  if (batch.part !== undefined) message.part = batch.part;
  if (batch.more) message.more = true;
  if (batch.live) message.live = true;
  return { message, bytes: data.length + HEADER_BYTES };
}
