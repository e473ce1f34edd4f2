import { base64UrlDecode, base64UrlEncode } from './base64-url.js';
import { InvalidQueryError } from './query-errors.js';
import type { SortKey } from './node-sort.js';

/**
 * What a continue token carries: the cluster it lists, the epoch and seq of the state
 * the page was read from, the fingerprint of the query (filters and sort), and the
 * sort key of the page's last node (keyset paging, so concurrent changes never shift
 * pages).
 */
export interface ContinuePosition {
  cluster: string;
  epoch: number;
  seq: number;
  query: string;
  after: [SortKey, string];
}

/** Encodes a position as an opaque URL-safe token. */
export function encodeContinueToken(position: ContinuePosition): string {
  const json = JSON.stringify({
    v: 2,
    c: position.cluster,
    e: position.epoch,
    s: position.seq,
    q: position.query,
    a: position.after,
  });
  return base64UrlEncode(json);
}

/** Decodes a token made by {@link encodeContinueToken}; throws {@link InvalidQueryError} on anything else. */
export function decodeContinueToken(token: string): ContinuePosition {
  const bad = (): InvalidQueryError =>
    new InvalidQueryError([{ path: 'continue', message: 'not a continue token returned by this API' }]);
  let value: unknown;
  try {
    value = JSON.parse(base64UrlDecode(token));
  } catch {
    throw bad();
  }
  if (!value || typeof value !== 'object') throw bad();
  const v = value as Record<string, unknown>;
  const after = v['a'];
  if (
    v['v'] !== 2 ||
    typeof v['c'] !== 'string' ||
    !Number.isInteger(v['e']) ||
    !Number.isInteger(v['s']) ||
    typeof v['q'] !== 'string' ||
    !Array.isArray(after) ||
    after.length !== 2 ||
    (typeof after[0] !== 'string' && typeof after[0] !== 'number') ||
    typeof after[1] !== 'string'
  ) {
    throw bad();
  }
  return {
    cluster: v['c'],
    epoch: v['e'] as number,
    seq: v['s'] as number,
    query: v['q'],
    after: [after[0] as SortKey, after[1]],
  };
}

/** FNV-1a (32 bit) of a string, in hex: a short fingerprint, not a security measure. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
