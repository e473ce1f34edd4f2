import { statusErrors } from '../api/api-status.js';
import { decodeContinue, encodeContinue, LATEST_RESOURCE_VERSION } from '../api/continue-token.js';
import type { KubeObject } from '../api/kube-object.js';
import { objectKey } from '../store/kind-store.js';
import { listIdentity } from '../store/list-snapshots.js';
import type { ApiContext } from './api-context.js';
import type { CollectionRequest } from './collection-request.js';
import { hasSelectors, objectMatcher, parseResourceVersion, type ListOptions } from './list-options.js';

/** The message of a 410 on a compacted continue token, word for word as the API server's. */
export const CONTINUE_EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** One page of a list: the objects, the version it was read at, and how to go on. */
export interface Page {
  resourceVersion: string;
  items: readonly KubeObject[];
  continueToken: string | undefined;
  remainingItemCount: number | undefined;
}

/** Where a list reads: the state (sorted by key, unfiltered), its version, the index to start at. */
interface Source {
  resourceVersion: string;
  state: readonly KubeObject[];
  offset: number;
  /** Whether `limit` applies (a list at resourceVersion "0" is served whole, as the watch cache does). */
  limited: boolean;
}

/**
 * Works out the page a list request asks for, with the API concepts' resourceVersion
 * semantics. A continue token names the list's version and the last key served, as
 * the API server's does: the next page is read at that version from a cached
 * snapshot or, once the cache let it go, rebuilt from the change log, so a token
 * stays good until the log is compacted past it (then 410 Expired, carrying a
 * `metadata.continue` that goes on at the latest version). Selectors are applied to
 * each page as the request gives them, so a token works with other selectors too.
 * Callers check the options first (validateListOptions) and wait for a future
 * resourceVersion; one still in the future here answers 504.
 */
export function listPage(ctx: ApiContext, req: CollectionRequest, options: ListOptions): Page {
  const source =
    options.continueToken !== undefined ? continuedSource(ctx, req, options) : firstSource(ctx, req, options);
  const matches = hasSelectors(options) ? objectMatcher(req.resource, req.namespace, options) : undefined;
  const limit = source.limited ? options.limit : undefined;
  const { state, offset, resourceVersion } = source;

  const items: KubeObject[] = [];
  let next = offset;
  if (limit === undefined && matches === undefined) {
    return {
      resourceVersion,
      items: offset === 0 ? state : state.slice(offset),
      continueToken: undefined,
      remainingItemCount: undefined,
    };
  }
  for (; next < state.length && (limit === undefined || items.length < limit); next++) {
    const object = state[next] as KubeObject;
    if (matches === undefined || matches(object)) items.push(object);
  }
  // More to come only when a later object matches (the last page is never empty).
  let more = false;
  for (let i = next; i < state.length && !more; i++)
    more = matches === undefined || matches(state[i] as KubeObject);
  let continueToken: string | undefined;
  let remainingItemCount: number | undefined;
  const snapshotId = identity(req, resourceVersion);
  if (more) {
    continueToken = encodeContinue({
      resourceVersion,
      startAfter: objectKey(items[items.length - 1] as KubeObject),
    });
    if (matches === undefined) remainingItemCount = state.length - next;
    if (ctx.snapshots.get(snapshotId) === undefined) ctx.snapshots.create(snapshotId, resourceVersion, state);
  } else if (options.continueToken !== undefined) {
    ctx.snapshots.release(snapshotId);
  }
  return { resourceVersion, items, continueToken, remainingItemCount };
}

function identity(req: CollectionRequest, resourceVersion: string): string {
  return listIdentity({
    resource: `${req.resource.group}/${req.resource.plural}`,
    namespace: req.namespace,
    resourceVersion,
  });
}

function keyPrefix(req: CollectionRequest): string | undefined {
  return req.resource.namespaced && req.namespace !== undefined ? `${req.namespace}/` : undefined;
}

function continuedSource(ctx: ApiContext, req: CollectionRequest, options: ListOptions): Source {
  const position = decodeContinue(options.continueToken as string);
  const rvParam = options.resourceVersion;
  if (rvParam !== undefined && rvParam !== '' && rvParam !== '0') {
    throw statusErrors.badRequest('specifying resource version is not allowed when using continue');
  }
  const store = ctx.cluster.store;
  const prefix = keyPrefix(req);
  let resourceVersion: string;
  let state: readonly KubeObject[];
  if (position.resourceVersion === LATEST_RESOURCE_VERSION) {
    resourceVersion = String(store.resourceVersion);
    state = store.kind(req.resource.kind).sorted(prefix);
  } else {
    resourceVersion = position.resourceVersion;
    const cached = ctx.snapshots.get(identity(req, resourceVersion))?.items;
    const rebuilt = cached ?? store.stateAt(req.resource.kind, Number(resourceVersion), prefix);
    if (rebuilt === undefined) {
      throw statusErrors.expired(
        CONTINUE_EXPIRED_MESSAGE,
        encodeContinue({ resourceVersion: LATEST_RESOURCE_VERSION, startAfter: position.startAfter }),
      );
    }
    state = rebuilt;
  }
  return { resourceVersion, state, offset: upperBoundByKey(state, position.startAfter), limited: true };
}

function firstSource(ctx: ApiContext, req: CollectionRequest, options: ListOptions): Source {
  const store = ctx.cluster.store;
  const prefix = keyPrefix(req);
  const current = store.resourceVersion;
  const latest = (): readonly KubeObject[] => store.kind(req.resource.kind).sorted(prefix);
  const rvParam = options.resourceVersion;
  if (rvParam === undefined || rvParam === '') {
    return { resourceVersion: String(current), state: latest(), offset: 0, limited: true };
  }
  if (rvParam === '0') {
    // "Any": served from the (always current) cache; like the watch cache, limit is ignored.
    return { resourceVersion: String(current), state: latest(), offset: 0, limited: false };
  }
  const rv = parseResourceVersion(rvParam);
  if (rv > current) throw statusErrors.resourceVersionTooLarge(rv, current);
  const exact =
    options.resourceVersionMatch === 'Exact' ||
    (options.resourceVersionMatch === undefined && options.limit !== undefined);
  if (!exact) return { resourceVersion: String(current), state: latest(), offset: 0, limited: true };
  const past = store.stateAt(req.resource.kind, rv, prefix);
  if (past === undefined) {
    throw statusErrors.expired(`too old resource version: ${rv} (${store.oldestWatchableRv + 1})`);
  }
  return { resourceVersion: String(rv), state: past, offset: 0, limited: true };
}

function upperBoundByKey(items: readonly KubeObject[], key: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (objectKey(items[mid] as KubeObject) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
