import type { FastifyReply } from 'fastify';
import { JSON_CONTENT_TYPE } from './json-content-type.js';
import type { ContentCoding } from './content-coding.js';

/**
 * One answer of a cached REST read: its bytes in the coding they are sent in and
 * their entity tag, or only the tag when the client's copy is current (304).
 */
export type CachedAnswer =
  { status: 200; body: Buffer; coding: ContentCoding; etag: string } | { status: 304; etag: string };

/**
 * `no-cache`: a client may keep the answer but must revalidate it before each use
 * (cheap: a 304 with no body), since the cluster may change at any moment; `private`:
 * it was authorized for one token, no shared cache may hand it to another.
 */
const CACHE_CONTROL = 'private, no-cache';

/**
 * Sends `answer` on `reply`. Both statuses carry the tag, `Vary: Accept-Encoding`
 * (the coding was chosen from it) and `Cache-Control`, as RFC 9110 §15.4.5 asks of a
 * 304; only a 200 has a body, its type and its `Content-Encoding`.
 */
export function sendAnswer(reply: FastifyReply, answer: CachedAnswer): FastifyReply {
  // Added to what CORS may have said (Vary: Origin), not in place of it.
  const vary = reply.getHeader('vary');
  reply
    .header('etag', answer.etag)
    .header('vary', vary === undefined ? 'accept-encoding' : `${String(vary)}, accept-encoding`)
    .header('cache-control', CACHE_CONTROL);
  if (answer.status === 304) return reply.code(304).send();
  reply.header('content-type', JSON_CONTENT_TYPE);
  if (answer.coding !== 'identity') reply.header('content-encoding', answer.coding);
  return reply.code(200).send(answer.body);
}
