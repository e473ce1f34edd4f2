import { createHash } from 'node:crypto';
import type { ClusterPosition } from '@knm/node-store';
import type { ContentCoding } from './content-coding.js';

/**
 * Bumped whenever the bytes of an answer change for the same data (a field added, a
 * different JSON layout): a client revalidating across a deploy must not be told
 * that the old bytes are still current.
 */
const FORMAT = 1;

/** What an answer's bytes are a function of. */
export interface TaggedState {
  /** Shown in the tag, for people reading logs: `<epoch>.<seq>` of a cluster's answer. */
  label: string;
  /** The rest of what the bytes depend on (the cluster's life, the route and its normalized query), hashed. */
  hashed: string;
}

/**
 * Hashes of {@link TaggedState.hashed} most recently used: it does not change with
 * the seq (a cluster's life and a route with its query), so a query asked at every
 * seq hashes once rather than once per request (SHA-256 was a few percent of a
 * gateway's CPU per cached answer).
 */
const HASHES_KEPT = 4096;
const hashes = new Map<string, string>();

function hashOf(hashed: string): string {
  let hash = hashes.get(hashed);
  if (hash === undefined) {
    hash = createHash('sha256').update(`${FORMAT}\n${hashed}`).digest('base64url').slice(0, 22);
    if (hashes.size >= HASHES_KEPT) hashes.delete(hashes.keys().next().value as string);
    hashes.set(hashed, hash);
  }
  return hash;
}

/** The state of an answer computed from one cluster at `at` for `query` (route and normalized query). */
export function clusterState(at: ClusterPosition, query: string): TaggedState {
  return { label: `${at.epoch}.${at.seq}`, hashed: `${at.registeredAt}\n${query}` };
}

/**
 * The strong entity tag of one representation of an answer:
 * `"<label>-<hash>[-gzip|-br]"`. Any change of the cluster's seq, epoch or life, of
 * the query or of the coding gives another tag; the same state gives the same tag on
 * every gateway (nothing of the process is in it), so a client revalidates against
 * any replica. Each coding has its own tag (RFC 9110 §8.8.3: a strong validator is
 * per representation).
 */
export function entityTag(state: TaggedState, coding: ContentCoding): string {
  const hash = hashOf(state.hashed);
  return `"${state.label}-${hash}${coding === 'identity' ? '' : `-${coding}`}"`;
}

/** One entity tag of a list: `W/"..."` or `"..."` (quotes included), then a comma or the end. */
const LIST_ELEMENT = /\s*(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)/y;

/**
 * Whether `If-None-Match` matches `etag` (RFC 9110 §13.1.2): `*`, or a list of which
 * one tag equals it by the weak comparison (opaque tags equal, `W/` ignored on
 * either side: a proxy that compressed or changed the body weakens the tag, and
 * If-None-Match must still match it). A header that does not parse matches nothing,
 * so the full answer is sent.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  LIST_ELEMENT.lastIndex = 0;
  let found = false;
  while (LIST_ELEMENT.lastIndex < header.length) {
    const match = LIST_ELEMENT.exec(header);
    if (!match) return false;
    if (match[1] === opaque) found = true;
  }
  return found;
}
