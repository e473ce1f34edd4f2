/**
 * Continue tokens for paginated lists. A token pins the list's resourceVersion
 * (every page is served from that snapshot) and the last key returned; it is opaque
 * to clients (base64url JSON, like the real API server's base64 JSON token).
 */
import { statusErrors } from './api-status.js';

/**
 * A continuation at the latest version rather than the list's: what the 410 for a
 * compacted list offers (the API server encodes it as resourceVersion -1).
 */
export const LATEST_RESOURCE_VERSION = '-1';

/** Where the next page starts: the snapshot's resourceVersion and the last key already returned. */
export interface ContinuePosition {
  /** The list's version, or {@link LATEST_RESOURCE_VERSION}. */
  resourceVersion: string;
  /** The last key returned: `namespace/name` for namespaced objects, `name` for cluster-scoped ones. */
  startAfter: string;
}

/** Encodes a position as an opaque base64url token (version-tagged so the format can change). */
export function encodeContinue(p: ContinuePosition): string {
  return Buffer.from(
    JSON.stringify({ v: 'knm1', rv: p.resourceVersion, start: p.startAfter }),
    'utf8',
  ).toString('base64url');
}

/**
 * Decodes a token made by {@link encodeContinue}. Anything else throws an
 * ApiStatusError 400 BadRequest worded like the API server's
 * (`invalid continue token: continue key is not valid: ...`). Expiry (410) is the
 * store's decision, not this one's.
 */
export function decodeContinue(token: string): ContinuePosition {
  const invalid = (why: string) =>
    statusErrors.badRequest(`invalid continue token: continue key is not valid: ${why}`);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw invalid('illegal base64 data');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw invalid('server does not recognize this encoded key');
  const { v, rv, start } = parsed as Record<string, unknown>;
  if (v !== 'knm1' || typeof start !== 'string' || typeof rv !== 'string' || !/^([1-9][0-9]*|-1)$/.test(rv)) {
    throw invalid('server does not recognize this encoded key');
  }
  return { resourceVersion: rv, startAfter: start };
}
