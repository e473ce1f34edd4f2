import { inflateSync } from 'fflate';
import {
  BatchMessageSchema,
  CompressedBatchMessageSchema,
  type BatchEncoding,
  type BatchMessage,
} from '@knm/contracts';

/** What the client asks for in `subscribe`: the batch encoding {@link decodeBatch} reads. */
export const BATCH_ENCODING: BatchEncoding = 'deflate';

/** A decoded `batch` event, or why it could not be. */
export type DecodedBatch = { ok: true; batch: BatchMessage } | { ok: false; error: string };

const utf8 = new TextDecoder();

/**
 * A `batch` event's payload as a {@link BatchMessage}: a plain batch as it is, a
 * compressed one (`encoding`, binary `data`) inflated and parsed. Synchronous (fflate
 * in the browser as in Node), so a batch is applied in the order the events came.
 */
export function decodeBatch(raw: unknown): DecodedBatch {
  if (typeof raw !== 'object' || raw === null || !('encoding' in raw)) {
    const plain = BatchMessageSchema.safeParse(raw);
    return plain.success ? { ok: true, batch: plain.data } : { ok: false, error: plain.error.message };
  }
  const packed = CompressedBatchMessageSchema.safeParse(raw);
  if (!packed.success) return { ok: false, error: packed.error.message };
  const { data, encoding, ...header } = packed.data;
  let envelopes: unknown;
  try {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    envelopes = JSON.parse(utf8.decode(inflateSync(bytes)));
  } catch (err) {
    return { ok: false, error: `its ${encoding} data does not inflate to JSON: ${(err as Error).message}` };
  }
  const batch = BatchMessageSchema.safeParse({ ...header, envelopes });
  return batch.success ? { ok: true, batch: batch.data } : { ok: false, error: batch.error.message };
}
