import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { ContentCoding } from './content-coding.js';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Bodies smaller than this are sent as they are whatever the client accepts: a
 * compressed single node saves a kilobyte or so, while every request for it would
 * cost a `Content-Encoding` the client must undo.
 */
export const MIN_COMPRESSED_BYTES = 1024;

/**
 * Brotli quality 4: on a 5,000-node list (~10 MB of JSON) it is as fast as gzip's
 * default level and some 20% smaller; the default quality (11) takes seconds on it.
 */
const BROTLI_QUALITY = 4;

/**
 * Compresses a body, off the event loop (zlib's thread pool), and shares one
 * compression among the concurrent requests for the same (key, coding): when a new
 * seq's list is asked by many clients at once, it is compressed once. The caller
 * caches the result (beside the identity body); this only dedupes what is in flight.
 */
export class BodyEncoder {
  private readonly inflight = new Map<string, Promise<Buffer>>();

  /** `body` in `coding`; `key` names the body (its cache key and the state it was computed from). */
  encode(key: string, body: Buffer, coding: Exclude<ContentCoding, 'identity'>): Promise<Buffer> {
    const id = `${coding}\n${key}`;
    const running = this.inflight.get(id);
    if (running) return running;
    const compressing = (
      coding === 'br'
        ? brotli(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
              [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          })
        : gzipAsync(body)
    ).finally(() => this.inflight.delete(id));
    this.inflight.set(id, compressing);
    return compressing;
  }
}
