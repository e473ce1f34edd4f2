import { toNodeView, type ClusterName, type FleetNodeView } from '@knm/contracts';
import { decodeFleetContinueToken, encodeFleetContinueToken, type FleetKey } from './fleet-continue-token.js';
import { compareKeys } from './node-sort.js';
import { InvalidQueryError, StaleContinueError } from './query-errors.js';
import type { CompiledNodeQuery } from './query-nodes.js';
import type { KeyedNode } from './sorted-matches.js';

/** One cluster's part of a fleet query: its matches in the query's order ({@link sortedMatches}) and the state they come from. */
export interface FleetMember {
  cluster: ClusterName;
  epoch: number;
  seq: number;
  /** Every match of the query in the cluster, sorted as {@link sortedMatches} sorts them. */
  matches: readonly KeyedNode[];
}

/** One page of the fleet list. */
export interface FleetQueryResult {
  /** Matches over every cluster and page. */
  total: number;
  items: FleetNodeView[];
  /** Token of the next page; absent on the last one. */
  continue?: string;
}

/** Compares two fleet keys ascending: sort key, then cluster, then node name. */
export function compareFleetKeys(a: FleetKey, b: FleetKey): number {
  return compareKeys([a[0], a[1]], [b[0], b[1]]) || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
}

/**
 * One page of the fleet: a k-way merge of each member's sorted matches in the query's
 * order, ties broken by (cluster, node name) in the same direction. Restricted to one
 * cluster the order is that cluster's own list order, so each member is entered by a
 * binary search for the token's position and the merge touches `limit` nodes, not the
 * fleet (each cluster's sorted matches are computed once per snapshot and query by
 * the caller). Pure.
 *
 * The continue token is a keyset position plus each member's (epoch, seq): a token
 * of another query is a 400 ({@link InvalidQueryError}); one whose cluster was rebuilt
 * since (other epoch) or is behind the token (Redis lost data) is a 410
 * ({@link StaleContinueError}). Members absent from the token (a cluster registered
 * since) join at the token's position; clusters of the token absent now are ignored.
 */
export function queryFleet(
  members: readonly FleetMember[],
  compiled: CompiledNodeQuery,
  limit: number,
): FleetQueryResult {
  const direction = compiled.order.direction;
  const ordered = (a: FleetKey, b: FleetKey): number => direction * compareFleetKeys(a, b);

  let after: FleetKey | undefined;
  if (compiled.query.continue !== undefined) {
    const position = decodeFleetContinueToken(compiled.query.continue);
    if (position.query !== compiled.fingerprint) {
      throw new InvalidQueryError([
        {
          path: 'continue',
          message: 'this continue token belongs to a query with other filters or sort; repeat that query',
        },
      ]);
    }
    for (const member of members) {
      const state = position.states.get(member.cluster);
      if (state && (state[0] !== member.epoch || state[1] > member.seq)) {
        throw new StaleContinueError(
          `cluster "${member.cluster}" was resynced since this page was read; list again without "continue"`,
        );
      }
    }
    after = position.after;
  }

  const cursors: Cursor[] = [];
  let total = 0;
  for (const member of members) {
    total += member.matches.length;
    const start = after === undefined ? 0 : firstAfter(member, after, ordered);
    if (start < member.matches.length) cursors.push({ member, index: start });
  }
  const heap = new CursorHeap(cursors, ordered);
  const items: FleetNodeView[] = [];
  let last: FleetKey | undefined;
  while (items.length < limit) {
    const top = heap.peek();
    if (!top) break;
    const { subject: s, key } = top.member.matches[top.index] as KeyedNode;
    items.push({
      cluster: top.member.cluster,
      ...toNodeView(s.node, s.podCount, s.allocation, s.usage),
    });
    last = [key[0], top.member.cluster, key[1]];
    top.index += 1;
    if (top.index < top.member.matches.length) heap.replaceTop();
    else heap.pop();
  }
  const result: FleetQueryResult = { total, items };
  if (last !== undefined && heap.peek() !== undefined) {
    result.continue = encodeFleetContinueToken({
      query: compiled.fingerprint,
      after: last,
      states: new Map(members.map((m) => [m.cluster, [m.epoch, m.seq] as const])),
    });
  }
  return result;
}

interface Cursor {
  member: FleetMember;
  index: number;
}

function keyAt(cursor: Cursor): FleetKey {
  const { key } = cursor.member.matches[cursor.index] as KeyedNode;
  return [key[0], cursor.member.cluster, key[1]];
}

/** Index of the member's first match ordered after `after` (binary search: the matches are in that order). */
function firstAfter(
  member: FleetMember,
  after: FleetKey,
  ordered: (a: FleetKey, b: FleetKey) => number,
): number {
  let low = 0;
  let high = member.matches.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const { key } = member.matches[mid] as KeyedNode;
    if (ordered([key[0], member.cluster, key[1]], after) > 0) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** A binary min-heap of cursors by their current key: the next node of the merge is at the top. */
class CursorHeap {
  private readonly items: Cursor[];

  constructor(
    cursors: Cursor[],
    private readonly ordered: (a: FleetKey, b: FleetKey) => number,
  ) {
    this.items = cursors;
    for (let i = (this.items.length >>> 1) - 1; i >= 0; i -= 1) this.down(i);
  }

  peek(): Cursor | undefined {
    return this.items[0];
  }

  /** The top cursor moved on: restore the order. */
  replaceTop(): void {
    this.down(0);
  }

  /** Removes the top cursor (it is exhausted). */
  pop(): void {
    const last = this.items.pop();
    if (last !== undefined && this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
  }

  private less(i: number, j: number): boolean {
    return this.ordered(keyAt(this.items[i] as Cursor), keyAt(this.items[j] as Cursor)) < 0;
  }

  private down(from: number): void {
    const n = this.items.length;
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.less(left, smallest)) smallest = left;
      if (right < n && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      const swap = this.items[i] as Cursor;
      this.items[i] = this.items[smallest] as Cursor;
      this.items[smallest] = swap;
      i = smallest;
    }
  }
}
