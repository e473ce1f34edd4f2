import { base64UrlDecode, base64UrlEncode } from './base64-url.js';
import { InvalidQueryError } from './query-errors.js';
import type { SortKey } from './node-sort.js';

/** A fleet page's position in the merged order: the last node's sort key, cluster and name. */
export type FleetKey = [SortKey, string, string];

/**
 * What a fleet continue token carries: the fingerprint of the query, the last node of
 * the page (keyset paging across clusters, so nodes added or removed between pages
 * never make a page repeat or skip a node that stayed), and the (epoch, seq) each
 * cluster was read at, so that a cluster rebuilt since (or whose Redis lost data)
 * makes the token stale (410), as the per-cluster token does.
 */
export interface FleetContinuePosition {
  query: string;
  after: FleetKey;
  /** Cluster name -> [epoch, seq] of the state the page was read from. */
  states: ReadonlyMap<string, readonly [number, number]>;
}

const bad = (): InvalidQueryError =>
  new InvalidQueryError([{ path: 'continue', message: 'not a continue token of the fleet node list' }]);

/** Encodes a fleet position as an opaque URL-safe token (`k: 'fleet'` tells it from a cluster's token). */
export function encodeFleetContinueToken(position: FleetContinuePosition): string {
  return base64UrlEncode(
    JSON.stringify({
      v: 1,
      k: 'fleet',
      q: position.query,
      a: position.after,
      s: Object.fromEntries(position.states),
    }),
  );
}

/** Decodes a token made by {@link encodeFleetContinueToken}; throws {@link InvalidQueryError} on anything else. */
export function decodeFleetContinueToken(token: string): FleetContinuePosition {
  let value: unknown;
  try {
    value = JSON.parse(base64UrlDecode(token));
  } catch {
    throw bad();
  }
  if (!value || typeof value !== 'object') throw bad();
  const v = value as Record<string, unknown>;
  const after = v['a'];
  const states = v['s'];
  if (
    v['v'] !== 1 ||
    v['k'] !== 'fleet' ||
    typeof v['q'] !== 'string' ||
    !Array.isArray(after) ||
    after.length !== 3 ||
    (typeof after[0] !== 'string' && typeof after[0] !== 'number') ||
    typeof after[1] !== 'string' ||
    typeof after[2] !== 'string' ||
    !states ||
    typeof states !== 'object' ||
    Array.isArray(states)
  ) {
    throw bad();
  }
  // A map, not a record: a tampered token may name a cluster `__proto__`.
  const decoded = new Map<string, readonly [number, number]>();
  for (const [cluster, state] of Object.entries(states as Record<string, unknown>)) {
    if (
      !Array.isArray(state) ||
      state.length !== 2 ||
      !Number.isInteger(state[0]) ||
      !Number.isInteger(state[1])
    ) {
      throw bad();
    }
    decoded.set(cluster, [state[0] as number, state[1] as number]);
  }
  return { query: v['q'], after: [after[0] as SortKey, after[1], after[2]], states: decoded };
}
