import { crc32, inflateRawSync } from 'node:zlib';

/** Distinct compressed batches remembered (the oldest goes first). */
const MAX_REMEMBERED = 16;

/** The envelopes of the compressed batches this process inflated last, by length and CRC-32 of their bytes. */
const remembered = new Map<string, unknown>();

/**
 * The parsed JSON a compressed batch's `data` (raw DEFLATE) holds; undefined when it
 * does not inflate to JSON. Shared by the clients of a fleet process like the
 * decoding of text frames (`sharedParser`): the gateway broadcasts one
 * compressed batch to many sockets, and a thousand simulated clients inflating and
 * parsing the same megabytes would measure the fleet's core, not the gateway. Each
 * client still receives its own bytes; the result is read, never changed.
 */
export function inflatedJson(data: Uint8Array): unknown {
  const key = `${data.length}:${crc32(data)}`;
  if (remembered.has(key)) return remembered.get(key);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inflateRawSync(data).toString('utf8'));
  } catch {
    return undefined;
  }
  remembered.set(key, parsed);
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  return parsed;
}
