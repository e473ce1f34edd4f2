import type { ServerResponse } from 'node:http';
import { statusErrors, type ApiStatusError } from '../api/api-status.js';
import { decodeContinue, encodeContinue } from '../api/continue-token.js';
import type { JsonObject, KubeObject } from '../api/kube-object.js';
import { negotiateTable, parseIncludeObject, toTable } from '../api/table.js';
import { objectKey } from '../store/kind-store.js';
import { listIdentity } from '../store/list-snapshots.js';
import type { ApiContext } from './api-context.js';
import {
  hasSelectors,
  objectMatcher,
  parseListOptions,
  parseResourceVersion,
  type ListOptions,
} from './list-options.js';
import type { ResourceDef } from '../resource-registry.js';
import { JSON_FORMAT, WatchStream, type WatchFormat } from './watch-stream.js';

/** The message of a 410 on an expired continue token, word for word as the API server's. */
export const CONTINUE_EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';

/** A request for a collection: its resource, namespace (undefined = all) and query. */
export interface CollectionRequest {
  resource: ResourceDef;
  namespace: string | undefined;
  query: URLSearchParams;
  accept: string | undefined;
}

/** Answers GET on a collection: a list, or a watch when `watch=true`. */
export async function handleCollectionGet(
  ctx: ApiContext,
  req: CollectionRequest,
  res: ServerResponse,
): Promise<void> {
  const options = parseListOptions(req.query, req.resource);
  if (options.watch) {
    startWatch(ctx, req, options, res);
    return;
  }
  await serveList(ctx, req, options, res);
}

interface Page {
  resourceVersion: string;
  items: readonly KubeObject[];
  continueToken: string | undefined;
  remainingItemCount: number | undefined;
}

/** Works out the page a list request asks for (resourceVersion semantics of the API concepts). */
export function listPage(ctx: ApiContext, req: CollectionRequest, options: ListOptions): Page {
  const { cluster, snapshots } = ctx;
  const store = cluster.store;
  const { resource, namespace } = req;
  const prefix = resource.namespaced && namespace !== undefined ? `${namespace}/` : undefined;
  const identity = (rv: string) =>
    listIdentity({
      resource: `${resource.group}/${resource.plural}`,
      namespace,
      labelSelector: options.labelSelectorText,
      fieldSelector: options.fieldSelectorText,
      resourceVersion: rv,
    });

  let resourceVersion: string;
  let items: readonly KubeObject[];
  let offset = 0;
  let limit = options.limit;

  if (options.continueToken !== undefined) {
    const position = decodeContinue(options.continueToken);
    const snapshot = snapshots.get(identity(position.resourceVersion));
    if (snapshot === undefined) throw statusErrors.expired(CONTINUE_EXPIRED_MESSAGE);
    resourceVersion = snapshot.resourceVersion;
    items = snapshot.items;
    offset = upperBoundByKey(items, position.startAfter);
  } else {
    const rvParam = options.resourceVersion;
    const current = store.resourceVersion;
    const matcher = objectMatcher(resource, namespace, options);
    let state: readonly KubeObject[];
    if (rvParam === undefined || rvParam === '') {
      if (options.resourceVersionMatch !== undefined) {
        throw statusErrors.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
      }
      resourceVersion = String(current);
      state = store.kind(resource.kind).sorted(prefix);
    } else if (rvParam === '0' && options.resourceVersionMatch !== 'Exact') {
      // "Any": served from the (always current) cache; like the watch cache, limit is ignored.
      resourceVersion = String(current);
      state = store.kind(resource.kind).sorted(prefix);
      limit = undefined;
    } else {
      const rv = parseResourceVersion(rvParam);
      const exact =
        options.resourceVersionMatch === 'Exact' ||
        (options.resourceVersionMatch === undefined && options.limit !== undefined);
      if (rv > current) throw statusErrors.resourceVersionTooLarge(rv, current);
      if (exact) {
        const past = store.stateAt(resource.kind, rv, prefix);
        if (past === undefined) {
          throw statusErrors.expired(`too old resource version: ${rv} (${store.oldestWatchableRv + 1})`);
        }
        resourceVersion = String(rv);
        state = past;
      } else {
        resourceVersion = String(current);
        state = store.kind(resource.kind).sorted(prefix);
      }
    }
    items = hasSelectors(options) ? state.filter(matcher) : state;
    if (limit !== undefined && items.length > limit) {
      snapshots.create(identity(resourceVersion), resourceVersion, items);
    }
  }

  const end = limit === undefined ? items.length : Math.min(items.length, offset + limit);
  const page = offset === 0 && end === items.length ? items : items.slice(offset, end);
  let continueToken: string | undefined;
  let remainingItemCount: number | undefined;
  if (end < items.length) {
    const last = items[end - 1] as KubeObject;
    continueToken = encodeContinue({ resourceVersion, startAfter: objectKey(last) });
    if (!hasSelectors(options)) remainingItemCount = items.length - end;
  } else if (options.continueToken !== undefined) {
    snapshots.release(identity(resourceVersion));
  }
  return { resourceVersion, items: page, continueToken, remainingItemCount };
}

async function serveList(
  ctx: ApiContext,
  req: CollectionRequest,
  options: ListOptions,
  res: ServerResponse,
): Promise<void> {
  const page = listPage(ctx, req, options);
  const metadata: JsonObject = { resourceVersion: page.resourceVersion };
  if (page.continueToken !== undefined) metadata['continue'] = page.continueToken;
  if (page.remainingItemCount !== undefined) metadata['remainingItemCount'] = page.remainingItemCount;
  const tableVersion = negotiateTable(req.accept);
  if (tableVersion !== undefined) {
    const table = toTable(req.resource.kind, page.items, {
      resourceVersion: page.resourceVersion,
      ...(page.continueToken !== undefined ? { continue: page.continueToken } : {}),
      ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
      includeObject: parseIncludeObject(req.query.get('includeObject') ?? undefined),
      now: new Date(ctx.cluster.now()),
      apiVersion: tableVersion,
    });
    const text = JSON.stringify(table);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  const head = JSON.stringify({
    kind: `${req.resource.kind}List`,
    apiVersion: req.resource.apiVersion,
    metadata,
  });
  await writeList(res, `${head.slice(0, -1)},"items":[`, page.items, ']}');
}

/**
 * Streams a list body in batches, honouring backpressure, so a list of 150,000 pods
 * never becomes one giant string.
 */
async function writeList(
  res: ServerResponse,
  head: string,
  items: readonly KubeObject[],
  tail: string,
): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  let buffer = head;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) buffer += ',';
    buffer += JSON.stringify(items[i]);
    if (buffer.length > 256 * 1024) {
      const ok = res.write(buffer);
      buffer = '';
      if (!ok) {
        const closed = await new Promise<boolean>((resolve) => {
          const onDrain = () => {
            res.off('close', onClose);
            resolve(false);
          };
          const onClose = () => {
            res.off('drain', onDrain);
            resolve(true);
          };
          res.once('drain', onDrain);
          res.once('close', onClose);
        });
        if (closed) return;
      }
    }
  }
  res.end(buffer + tail);
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

function watchFormat(ctx: ApiContext, req: CollectionRequest): WatchFormat {
  const apiVersion = negotiateTable(req.accept);
  if (apiVersion === undefined) return JSON_FORMAT;
  const includeObject = parseIncludeObject(req.query.get('includeObject') ?? undefined);
  return {
    key: `table:${apiVersion}:${includeObject}`,
    objectJson: (object) =>
      JSON.stringify(
        toTable(req.resource.kind, [object], {
          resourceVersion: object.metadata.resourceVersion,
          includeObject,
          now: new Date(ctx.cluster.now()),
          apiVersion,
        }),
      ),
  };
}

/**
 * Opens a watch. From unset/"0": synthetic ADDED events for the current state;
 * with `sendInitialEvents=true`: the same, then a BOOKMARK annotated
 * `k8s.io/initial-events-end`; from a version: exactly the changes after it, or,
 * when the log no longer reaches back, HTTP 200 with one ERROR event (410 Expired)
 * and the end of the stream. The backlog is taken (as references, nothing
 * serialised ahead) and the stream subscribed in the same synchronous step, so no
 * change can fall between them; the stream then writes the backlog with
 * backpressure while live changes queue behind it (see {@link WatchStream}).
 */
function startWatch(
  ctx: ApiContext,
  req: CollectionRequest,
  options: ListOptions,
  res: ServerResponse,
): void {
  const { cluster, hub } = ctx;
  const store = cluster.store;
  const { resource, namespace } = req;
  if (options.sendInitialEvents === true) {
    if (options.resourceVersionMatch !== 'NotOlderThan') {
      throw listOptionsInvalid(
        'resourceVersionMatch',
        'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      );
    }
    if (!options.allowWatchBookmarks) {
      throw listOptionsInvalid(
        'allowWatchBookmarks',
        'sendInitialEvents requires setting allowWatchBookmarks to true',
      );
    }
  } else if (options.resourceVersionMatch !== undefined) {
    throw listOptionsInvalid(
      'resourceVersionMatch',
      'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    );
  }
  const fromRv =
    options.resourceVersion === undefined || options.resourceVersion === '' || options.resourceVersion === '0'
      ? undefined
      : parseResourceVersion(options.resourceVersion);
  const matches = objectMatcher(resource, namespace, options);
  const prefix = resource.namespaced && namespace !== undefined ? `${namespace}/` : undefined;
  const timeoutMs =
    options.timeoutSeconds !== undefined ? options.timeoutSeconds * 1000 : ctx.defaultWatchTimeoutMs;
  const stream = new WatchStream(res, {
    kind: resource.kind,
    apiVersion: resource.apiVersion,
    matches,
    format: watchFormat(ctx, req),
    bookmarks: options.allowWatchBookmarks,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    maxBufferedBytes: ctx.watchBufferBytes,
    maxQueuedBytes: ctx.watchBufferBytes,
    timeoutMs,
    currentRv: () => store.resourceVersion,
    onClose: (s) => hub.remove(s),
  });
  stream.stalled = hub.stalled;
  if (options.sendInitialEvents === true || fromRv === undefined) {
    void stream.replay({
      objects: store.kind(resource.kind).sorted(prefix),
      ...(options.sendInitialEvents === true ? { initialEventsEndRv: store.resourceVersion } : {}),
    });
  } else {
    const changes = store.changesSince(fromRv);
    if (changes === undefined) {
      stream.sendErrorAndEnd(
        statusErrors.expired(`too old resource version: ${fromRv} (${store.oldestWatchableRv + 1})`).status,
      );
      return;
    }
    void stream.replay({ changes });
  }
  if (!stream.isClosed) hub.add(stream);
}

function listOptionsInvalid(field: string, message: string): ApiStatusError {
  return statusErrors.invalid(
    'ListOptions',
    '',
    [{ field, reason: 'FieldValueForbidden', message: `Forbidden: ${message}` }],
    'meta.k8s.io',
  );
}
