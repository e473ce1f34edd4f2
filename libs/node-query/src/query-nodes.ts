import {
  SelectorParseError,
  matchesLabelSelector,
  parseLabelSelector,
  toNodeView,
  type LabelSelector,
  type NodeAllocation,
  type NodeListQuery,
  type NodeSnapshot,
  type NodeView,
  type UsageSnapshot,
} from '@knm/contracts';
import { decodeContinueToken, encodeContinueToken, fingerprint } from './continue-token.js';
import { compareKeys, nodeOrder, type NodeOrder, type SortKey } from './node-sort.js';
import { InvalidQueryError, StaleContinueError } from './query-errors.js';
import { parseResourceFilters, type ResourceFilter } from './resource-filter.js';
import { sortedMatches } from './sorted-matches.js';
import { matchesTaintFilter, parseTaintFilters, type TaintFilter } from './taint-filter.js';

/** The state a query runs against: one consistent snapshot of a cluster. */
export interface NodeQueryInput {
  nodes: readonly NodeSnapshot[];
  /** Node name -> pod count; a node that is absent has 0. */
  podCounts: Readonly<Record<string, number>>;
  /** Node name -> what its pods request and limit; a node that is absent has none. */
  allocation?: Readonly<Record<string, NodeAllocation>>;
  /** The cluster's last metrics poll (usage per node), when there was one. */
  usage?: UsageSnapshot | undefined;
  /** The seq and epoch the snapshot was read at. */
  seq: number;
  epoch: number;
}

/** One page of a query's result. */
export interface NodeQueryResult {
  /** How many nodes match the filters (over every page). */
  total: number;
  items: NodeView[];
  /** Token of the next page; absent on the last one. */
  continue?: string;
}

/** A query with its filters compiled once (reuse it for many snapshots). */
export interface CompiledNodeQuery {
  readonly query: NodeListQuery;
  /** The cluster it lists: continue tokens are tied to it too. */
  readonly cluster: string;
  /** What the label, taint, name, role, ready and schedulable filters say of the node. */
  matches(node: NodeSnapshot): boolean;
  /** The `resource` filter items; every one must hold. */
  readonly resourceFilters: readonly ResourceFilter[];
  /** What to sort by, and which way. */
  readonly order: NodeOrder;
  /** Fingerprint of filters + sort, which continue tokens are tied to. */
  readonly fingerprint: string;
}

/**
 * Compiles the filters of `query` on `cluster`, throwing {@link InvalidQueryError}
 * (400) for a label selector or taint filter that does not parse.
 */
export function compileNodeQuery(query: NodeListQuery, cluster: string): CompiledNodeQuery {
  let selector: LabelSelector | undefined;
  if (query.labelSelector !== undefined && query.labelSelector.trim() !== '') {
    try {
      selector = parseLabelSelector(query.labelSelector);
    } catch (err) {
      if (err instanceof SelectorParseError) {
        throw new InvalidQueryError([{ path: 'labelSelector', message: err.message }]);
      }
      throw err;
    }
  }
  const taints: TaintFilter[] = query.taint === undefined ? [] : parseTaintFilters(query.taint);
  const resourceFilters = query.resource === undefined ? [] : parseResourceFilters(query.resource);
  const ready = query.ready === undefined ? undefined : READY[query.ready];
  const q = query.q?.toLowerCase();
  const matches = (node: NodeSnapshot): boolean =>
    (ready === undefined || node.ready === ready) &&
    (query.schedulable === undefined || node.unschedulable !== query.schedulable) &&
    (query.role === undefined || node.roles.includes(query.role)) &&
    (q === undefined || node.name.toLowerCase().includes(q)) &&
    taints.every((t) => matchesTaintFilter(node.taints, t)) &&
    (selector === undefined || matchesLabelSelector(selector, node.labels));
  const print = fingerprint(
    JSON.stringify([
      query.labelSelector ?? '',
      query.ready ?? '',
      query.schedulable ?? '',
      query.role ?? '',
      query.q ?? '',
      query.taint ?? '',
      query.sort,
      query.order,
      query.resource ?? '',
    ]),
  );
  return {
    query,
    cluster,
    matches,
    resourceFilters,
    order: nodeOrder(query.sort, query.order),
    fingerprint: print,
  };
}

const READY = { true: 'True', false: 'False', unknown: 'Unknown' } as const;

/**
 * Filters, sorts and pages `input` with `query`. Pure. Paging is keyset-based: the
 * continue token holds the last node's sort key, so nodes added or removed between
 * pages never make a page repeat or skip a node that stayed. A token from another
 * cluster or another query is a 400 ({@link InvalidQueryError}); a token from an older epoch (the
 * cluster was rebuilt) or from a seq ahead of the state (Redis lost data) is a 410
 * ({@link StaleContinueError}).
 */
export function queryNodes(input: NodeQueryInput, compiled: CompiledNodeQuery): NodeQueryResult {
  const { limit } = compiled.query;
  const direction = compiled.order.direction;

  let after: [SortKey, string] | undefined;
  if (compiled.query.continue !== undefined) {
    const position = decodeContinueToken(compiled.query.continue);
    if (position.cluster !== compiled.cluster) {
      // Said without naming the token's cluster: the caller may not be allowed to know it.
      throw new InvalidQueryError([
        { path: 'continue', message: "this continue token belongs to another cluster's listing" },
      ]);
    }
    if (position.query !== compiled.fingerprint) {
      throw new InvalidQueryError([
        {
          path: 'continue',
          message: 'this continue token belongs to a query with other filters or sort; repeat that query',
        },
      ]);
    }
    if (position.epoch !== input.epoch || position.seq > input.seq) {
      throw new StaleContinueError(
        'the cluster was resynced since this page was read; list again without "continue"',
      );
    }
    after = position.after;
  }

  const keyed = sortedMatches(input, compiled);

  let start = 0;
  if (after !== undefined) {
    const last = after;
    start = keyed.findIndex((k) => direction * compareKeys(k.key, last) > 0);
    if (start < 0) start = keyed.length;
  }
  const end = limit === undefined ? keyed.length : Math.min(keyed.length, start + limit);
  const page = keyed.slice(start, end);
  const result: NodeQueryResult = {
    total: keyed.length,
    items: page.map(({ subject: s }) => toNodeView(s.node, s.podCount, s.allocation, s.usage)),
  };
  const lastOfPage = page.at(-1);
  if (end < keyed.length && lastOfPage) {
    result.continue = encodeContinueToken({
      cluster: compiled.cluster,
      epoch: input.epoch,
      seq: input.seq,
      query: compiled.fingerprint,
      after: lastOfPage.key,
    });
  }
  return result;
}
