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
 * zlib's level 3, not its default 6: the last of its fast levels. On a 10 MB folded
 * batch of 5,000 node snapshots, 6 took about 65 ms for 310 KB and 3 about 27 ms for
 * 397 KB (1 was 23 ms for 447 KB). A gateway compresses on its event loop, once per
 * shared batch, and after an overload it builds such batches back to back; what a
 * client inflates and parses is the plain JSON whatever the level.
 */
const LEVEL = 3;

/**
 * `batch` compressed ({@link CompressedBatchMessage}): its envelopes' JSON, raw
 * DEFLATE. `json` is that JSON when the caller has it ({@link envelopesJson}).
 * Synchronous on purpose: it runs once per shared batch, and the socket's position
 * must move in the same turn as the write.
 */
export function compressBatch(
  batch: BatchMessage,
  json: string = envelopesJson(batch.envelopes),
): CompressedBatch {
  const data = deflateRawSync(json, { level: LEVEL });
  return {
    message: {
      type: 'batch',
      cluster: batch.cluster,
      fromSeq: batch.fromSeq,
      seq: batch.seq,
      encoding: 'deflate',
      data,
    },
    bytes: data.length + HEADER_BYTES,
  };
}
